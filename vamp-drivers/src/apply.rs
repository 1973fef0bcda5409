//! Applying a plan: one step at a time, transient errors retried with
//! exponential backoff until a deadline, permanent errors stop the plan
//! naming the step. Re-running after a crash is safe: steps are idempotent
//! and [`reconcile`] re-plans from what actually runs.

use std::time::{Duration, Instant};

use crate::driver::{Driver, NewInstance};
use crate::error::ApplyError;
use crate::plan::{plan, Plan, PlanOptions, Step};
use crate::spec::Desired;

/// Retry policy for transient errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First delay.
    pub initial: Duration,
    /// Largest delay between attempts.
    pub max_delay: Duration,
    /// Give up on a step after this long.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
        }
    }
}

/// What happened to a step, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEvent {
    /// About to run.
    Started,
    /// A transient error; retrying after the given delay.
    Retrying {
        /// Attempt that failed (1-based).
        attempt: u32,
        /// Delay before the next attempt.
        delay: Duration,
    },
    /// Done.
    Done,
}

/// Runs a plan against a driver. `progress` is called with the 1-based step
/// number, the step and what happened (the CLI prints it; libraries don't).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use vamp_drivers::{apply, plan, Desired, Driver, MemoryDriver, PlanOptions, RetryPolicy, ServiceKey, ServiceSpec};
/// let spec = ServiceSpec {
///     key: ServiceKey { deployment: "shop".into(), cluster: "web".into(), service: "web_1".into() },
///     image: "vamp-test/web:1".into(), deployable_type: None, environment: vec![],
///     arguments: vec![], ports: vec![], cpu: 0.1, memory: 64.0, instances: 2,
///     health_checks: vec![], depends_on: vec![],
/// };
/// let desired = Desired::new("shop", vec![spec], Default::default());
/// let driver = MemoryDriver::new();
/// let p = plan(&desired, &driver.observe("shop").await.unwrap(), &PlanOptions::default()).unwrap();
/// apply(&driver, &p, RetryPolicy::default(), &mut |_, _, _| {}).await.unwrap();
/// assert_eq!(driver.observe("shop").await.unwrap().instances.len(), 2);
/// # });
/// ```
pub async fn apply(
    driver: &dyn Driver,
    plan: &Plan,
    retry: RetryPolicy,
    progress: &mut (dyn FnMut(usize, &Step, StepEvent) + Send),
) -> Result<(), ApplyError> {
    for (i, step) in plan.steps.iter().enumerate() {
        let number = i + 1;
        progress(number, step, StepEvent::Started);
        let start = Instant::now();
        let mut delay = retry.initial;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result = match step {
                Step::Create {
                    spec,
                    fingerprint,
                    index,
                    name,
                    ..
                } => {
                    let new = NewInstance {
                        spec,
                        fingerprint,
                        index: *index,
                        name,
                    };
                    driver.create(new).await
                }
                Step::SetWeights {
                    deployment,
                    cluster,
                    weights,
                } => driver.set_weights(deployment, cluster, weights).await,
                Step::Drain { key, name, .. } => driver.drain(key, name).await,
                Step::Wait { millis } => {
                    tokio::time::sleep(Duration::from_millis(*millis)).await;
                    Ok(())
                }
                Step::Remove { key, name, .. } => driver.remove(key, name).await,
            };
            match result {
                Ok(()) => break,
                Err(e) if e.is_transient() => {
                    let elapsed = start.elapsed();
                    if elapsed + delay > retry.deadline {
                        return Err(ApplyError::Deadline {
                            number,
                            step: step.to_string(),
                            attempts: attempt,
                            elapsed,
                            last: e,
                        });
                    }
                    progress(number, step, StepEvent::Retrying { attempt, delay });
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(retry.max_delay);
                }
                Err(source) => {
                    return Err(ApplyError::Step {
                        number,
                        step: step.to_string(),
                        source,
                    })
                }
            }
        }
        progress(number, step, StepEvent::Done);
    }
    Ok(())
}

/// Observe, plan, apply, until a fresh plan is empty (at most `max_passes`
/// passes). Returns the number of steps run. This is also how a crashed
/// apply resumes: the next plan starts from what actually runs.
pub async fn reconcile(
    driver: &dyn Driver,
    desired: &Desired,
    opts: &PlanOptions,
    retry: RetryPolicy,
    max_passes: u32,
    progress: &mut (dyn FnMut(usize, &Step, StepEvent) + Send),
) -> Result<usize, ApplyError> {
    let mut steps = 0;
    for _ in 0..max_passes {
        let actual = driver
            .observe(&desired.deployment)
            .await
            .map_err(ApplyError::Observe)?;
        let p = plan(desired, &actual, opts)?;
        if p.is_empty() {
            return Ok(steps);
        }
        steps += p.steps.len();
        apply(driver, &p, retry, progress).await?;
    }
    Err(ApplyError::NotConverged { passes: max_passes })
}
