//! SLA types by name: the built-in evaluators and the ones a caller adds.

use std::collections::HashMap;
use std::sync::Arc;

use vamp_model::{Map, Value};

use crate::escalate::{EscalationHandler, Notify};
use crate::sla::{ErrorRate, ResponseTimePercentile, SlaType};

/// Builds an SLA type from the parameters of a generic SLA (every key but
/// `type` and `escalations`, as written); the error is a message.
pub type SlaConstructor =
    Box<dyn Fn(&Map<Value>) -> Result<Box<dyn SlaType>, String> + Send + Sync>;

/// The SLA types and escalation handlers known by name.
///
/// ```
/// use vamp_sla::{Registry, Notify};
/// let mut registry = Registry::with_builtins();
/// registry.register_handler("page", Notify); // any EscalationHandler
/// assert!(registry.knows_sla("response_time_percentile"));
/// ```
pub struct Registry {
    pub(super) slas: HashMap<String, SlaConstructor>,
    pub(super) handlers: HashMap<String, Arc<dyn EscalationHandler>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut slas: Vec<_> = self.slas.keys().collect();
        slas.sort();
        let mut handlers: Vec<_> = self.handlers.keys().collect();
        handlers.sort();
        f.debug_struct("Registry")
            .field("slas", &slas)
            .field("handlers", &handlers)
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::with_builtins()
    }
}

impl Registry {
    /// No generic SLA type and no handler (`response_time_sliding_window`
    /// and `escalation_only` are part of the model and always known).
    pub fn empty() -> Self {
        Registry {
            slas: HashMap::new(),
            handlers: HashMap::new(),
        }
    }

    /// `response_time_percentile`, `error_rate` and the `notify` handler.
    pub fn with_builtins() -> Self {
        let mut r = Registry::empty();
        r.register_sla("response_time_percentile", |p| {
            Ok(Box::new(ResponseTimePercentile::from_parameters(p)?) as Box<dyn SlaType>)
        });
        r.register_sla("error_rate", |p| {
            Ok(Box::new(ErrorRate::from_parameters(p)?) as Box<dyn SlaType>)
        });
        r.register_handler("notify", Notify);
        r
    }

    /// Registers (or replaces) the constructor of an SLA `type:`.
    pub fn register_sla<F>(&mut self, type_name: impl Into<String>, constructor: F)
    where
        F: Fn(&Map<Value>) -> Result<Box<dyn SlaType>, String> + Send + Sync + 'static,
    {
        self.slas.insert(type_name.into(), Box::new(constructor));
    }

    /// Registers (or replaces) the handler of a generic escalation `type:`.
    pub fn register_handler(
        &mut self,
        type_name: impl Into<String>,
        handler: impl EscalationHandler + 'static,
    ) {
        self.handlers.insert(type_name.into(), Arc::new(handler));
    }

    /// Whether a generic SLA type has a constructor.
    pub fn knows_sla(&self, type_name: &str) -> bool {
        self.slas.contains_key(type_name)
    }
}
