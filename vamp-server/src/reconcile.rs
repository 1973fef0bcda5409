//! The reconcile loop: one task per deployment keeps what the driver runs
//! equal to the stored deployment (observe, plan, apply with retries, from
//! `vamp-drivers`), writes each service's status and publishes the
//! synchronization events. A driver failure becomes a `failed` status and
//! an event, and the pass is retried with backoff; it never ends the loop.
//! On start every stored deployment is touched, so the first pass adopts
//! what already runs (instances are found by their labels): nothing is
//! created twice and services removed meanwhile are stopped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch, Notify};
use vamp_drivers::{desired_from_deployment, ActualState, PlanOptions};
use vamp_model::{Instance, Intention, Map, Phase, Status};

use crate::artifacts::{ApiKind, DeploymentRecord, Stored};
use crate::deploy::{commit, stamp};
use crate::events::Event;
use crate::Shared;

/// Tells the loop which deployments changed.
#[derive(Debug, Clone)]
pub struct Reconciler {
    tx: mpsc::UnboundedSender<String>,
}

impl Reconciler {
    /// A handle and the receiving end the loop runs on.
    pub fn new() -> (Reconciler, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Reconciler { tx }, rx)
    }

    /// The deployment `name` changed: reconcile it soon.
    pub fn touch(&self, name: &str) {
        // The loop is gone only while the server stops.
        let _ = self.tx.send(name.to_owned());
    }
}

/// Timing of the loop.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How often a converged deployment is checked again.
    pub resync: Duration,
    /// First delay after a failed pass (doubles up to `resync`).
    pub backoff: Duration,
    /// Retries of one step within a pass.
    pub retry: vamp_drivers::RetryPolicy,
}

/// Runs the loop until `stop` turns true.
pub async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<String>,
    stop: watch::Receiver<bool>,
) {
    let workers: Mutex<HashMap<String, Arc<Notify>>> = Mutex::new(HashMap::new());
    let mut tasks = tokio::task::JoinSet::new();
    let mut stop_main = stop.clone();
    loop {
        let name = tokio::select! {
            n = rx.recv() => match n { Some(n) => n, None => break },
            _ = stop_main.changed() => break,
        };
        let mut w = workers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = w.get(&name) {
            n.notify_one();
            continue;
        }
        let notify = Arc::new(Notify::new());
        notify.notify_one();
        w.insert(name.clone(), notify.clone());
        tasks.spawn(worker(shared.clone(), name, notify, stop.clone()));
    }
    // Let passes in flight finish their current step, then end.
    while tasks.join_next().await.is_some() {}
}

async fn worker(
    shared: Arc<Shared>,
    name: String,
    notify: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let timing = shared.config.timing;
    let mut delay = timing.resync;
    loop {
        tokio::select! {
            _ = notify.notified() => {}
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        delay = match pass(&shared, &name).await {
            Outcome::Converged => timing.resync,
            Outcome::Failed => (delay.min(timing.resync) * 2).clamp(timing.backoff, timing.resync),
        };
    }
}

enum Outcome {
    Converged,
    Failed,
}

fn sync_event(name: &str, cluster: &str, service: &str, what: &str) -> Event {
    Event::new(
        "synchronization",
        [
            format!("deployments:{name}"),
            format!("clusters:{cluster}"),
            format!("services:{service}"),
            format!("synchronization:{what}"),
        ],
        None,
    )
}

/// Marks what this pass works on as `updating`; returns the record.
async fn begin(shared: &Shared, name: &str) -> Option<DeploymentRecord> {
    let lock = shared.locks.of(name);
    let _guard = lock.lock().await;
    let old = shared.artifacts.deployment(name)?;
    let mut new = old.clone();
    for d in [&mut new.deployment, &mut new.retiring] {
        for c in d.spec.clusters.values_mut() {
            for s in &mut c.services {
                if s.status.phase != Phase::Done {
                    s.status.phase = Phase::Updating;
                    s.status.reason = None;
                }
            }
        }
    }
    if new != old {
        stamp(&old, &mut new);
        // `updating` lasts one pass and a restart starts a pass anyway: it
        // is not worth a durable write (the pass's outcome is).
        shared.artifacts.put_transient(
            ApiKind::Deployments,
            name,
            Stored::Deployment(Box::new(new.clone())),
        );
    }
    Some(new)
}

async fn pass(shared: &Shared, name: &str) -> Outcome {
    let Some(record) = begin(shared, name).await else {
        return Outcome::Converged;
    };
    let driver = shared.driver.clone();
    let before = driver.observe(name).await.unwrap_or_default();
    let runs = |a: &ActualState, c: &str, s: &str| {
        a.instances
            .iter()
            .any(|i| i.key.cluster == c && i.key.service == s)
    };
    for (c, cl) in &record.deployment.spec.clusters {
        for s in &cl.services {
            if s.status.phase == Phase::Updating && runs(&before, c, &s.breed.name) {
                shared
                    .bus
                    .publish(sync_event(name, c, &s.breed.name, "redeploy"));
            }
        }
    }
    let result = match desired_from_deployment(name, &record.deployment.spec) {
        Ok(desired) => {
            let opts = PlanOptions {
                drain_period: Duration::ZERO,
                capabilities: driver.capabilities(),
                driver: driver.name(),
            };
            vamp_drivers::reconcile(
                &*driver,
                &desired,
                &opts,
                shared.config.timing.retry,
                5,
                &mut |_, _, _| {},
            )
            .await
            .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    let actual = match &result {
        Ok(_) => driver.observe(name).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    };
    finish(shared, name, actual).await
}

/// Writes the pass's outcome into the (possibly since changed) record.
async fn finish(shared: &Shared, name: &str, actual: Result<ActualState, String>) -> Outcome {
    let lock = shared.locks.of(name);
    let _guard = lock.lock().await;
    let Some(old) = shared.artifacts.deployment(name) else {
        return Outcome::Converged;
    };
    let mut new = old.clone();
    let mut events = Vec::new();
    let outcome = match &actual {
        Ok(actual) => {
            for (c, cl) in new.deployment.spec.clusters.iter_mut() {
                for s in &mut cl.services {
                    s.instances = instances(actual, c, &s.breed.name);
                    if s.status.phase == Phase::Updating && s.status.intention == Intention::Deploy
                    {
                        s.status.phase = Phase::Done;
                        events.push(sync_event(name, c, &s.breed.name, "deployed"));
                    }
                }
            }
            for (c, cl) in new.retiring.spec.clusters.iter_mut() {
                cl.services.retain(|s| {
                    let gone = instances(actual, c, &s.breed.name).is_empty();
                    if gone {
                        events.push(sync_event(name, c, &s.breed.name, "undeployed"));
                    }
                    !gone
                });
            }
            new.retiring
                .spec
                .clusters
                .retain(|_, c| !c.services.is_empty());
            Outcome::Converged
        }
        Err(reason) => {
            for d in [&mut new.deployment, &mut new.retiring] {
                for (c, cl) in d.spec.clusters.iter_mut() {
                    for s in &mut cl.services {
                        if s.status.phase == Phase::Updating {
                            s.status = Status {
                                intention: s.status.intention,
                                phase: Phase::Failed,
                                reason: Some(reason.clone()),
                            };
                            events.push(sync_event(name, c, &s.breed.name, "failed"));
                        }
                    }
                }
            }
            Outcome::Failed
        }
    };
    if new != old {
        stamp(&old, &mut new);
        if commit(shared, &new).is_err() {
            return Outcome::Failed;
        }
        // Instances may have changed: the proxy follows.
        crate::gateways::notify(shared);
    }
    for e in events {
        shared.bus.publish(e);
    }
    outcome
}

fn instances(actual: &ActualState, cluster: &str, service: &str) -> Vec<Instance> {
    actual
        .instances
        .iter()
        .filter(|i| i.key.cluster == cluster && i.key.service == service)
        .map(|i| Instance {
            name: i.name.clone(),
            host: i.host.clone(),
            ports: i.ports.iter().cloned().collect::<Map<u16>>(),
            healthy: i.healthy.unwrap_or(true),
        })
        .collect()
}
