//! Route weights kept by drivers that have no gateway of their own (Docker,
//! Kubernetes, Marathon): by `deployment/cluster`, persisted by the caller
//! between runs.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::driver::{ActualState, ObservedInstance};

/// Route weights per service, by `deployment/cluster`.
pub type Weights = BTreeMap<String, Vec<(String, u8)>>;

/// A thread-safe table of route weights.
///
/// ```
/// use vamp_drivers::WeightBook;
/// let book = WeightBook::default();
/// book.set("shop", "sava", &[("sava:1.0".into(), 90), ("sava:1.1".into(), 10)]);
/// assert_eq!(book.of_deployment("shop")[0].0, "sava");
/// assert_eq!(book.actual("shop", vec![]).weights["sava"][1], ("sava:1.1".into(), 10));
/// assert!(book.actual("other", vec![]).weights.is_empty());
/// let saved = book.snapshot();
/// let other = WeightBook::default();
/// other.restore(saved);
/// assert_eq!(other.snapshot().len(), 1);
/// ```
#[derive(Debug, Default)]
pub struct WeightBook(Mutex<Weights>);

impl WeightBook {
    fn lock(&self) -> MutexGuard<'_, Weights> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every weight, to persist between runs.
    pub fn snapshot(&self) -> Weights {
        self.lock().clone()
    }

    /// Replaces the table with weights saved from [`snapshot`](Self::snapshot).
    pub fn restore(&self, weights: Weights) {
        *self.lock() = weights;
    }

    /// Sets the weights of one cluster.
    pub fn set(&self, deployment: &str, cluster: &str, weights: &[(String, u8)]) {
        self.lock()
            .insert(format!("{deployment}/{cluster}"), weights.to_vec());
    }

    /// What runs for a deployment: the instances a driver observed and the
    /// weights of the deployment's clusters kept here.
    pub fn actual(&self, deployment: &str, instances: Vec<ObservedInstance>) -> ActualState {
        ActualState {
            instances,
            weights: self.of_deployment(deployment).into_iter().collect(),
        }
    }

    /// The weights of a deployment's clusters, keyed by cluster name.
    pub fn of_deployment(&self, deployment: &str) -> Vec<(String, Vec<(String, u8)>)> {
        let prefix = format!("{deployment}/");
        self.lock()
            .iter()
            .filter_map(|(k, w)| k.strip_prefix(&prefix).map(|c| (c.to_owned(), w.clone())))
            .collect()
    }
}
