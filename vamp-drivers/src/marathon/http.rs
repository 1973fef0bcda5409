//! Talking to Marathon: one HTTP exchange, its answer (errors mapped to
//! [`DriverError`]), and waiting for the deployments a write starts.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use serde_json::Value;

use super::{MarathonDriver, CONFLICT_RETRIES, DRIVER};
use crate::error::DriverError;

/// An HTTP answer: status, JSON body (a string when not JSON) and the
/// `Marathon-Deployment-Id` header.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: Value,
    deployment_header: Option<String>,
}

impl Answer {
    pub(super) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(super) fn message(&self) -> String {
        let mut m = match &self.body {
            Value::Object(o) => o
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| self.body.to_string(), str::to_owned),
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        if let Some(details) = self.body.get("details").and_then(Value::as_array) {
            let parts: Vec<String> = details
                .iter()
                .map(|d| {
                    let path = d.get("path").and_then(Value::as_str).unwrap_or("/");
                    let errors: Vec<&str> = d
                        .get("errors")
                        .and_then(Value::as_array)
                        .map(|e| e.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    format!("{path}: {}", errors.join(", "))
                })
                .collect();
            if !parts.is_empty() {
                m = format!("{m} ({})", parts.join("; "));
            }
        }
        if m.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            m
        }
    }

    /// The deployment a write started: header, `deploymentId`, or the
    /// created app's `deployments[0].id`.
    pub(super) fn deployment(&self) -> Option<String> {
        self.deployment_header
            .clone()
            .or_else(|| {
                self.body
                    .get("deploymentId")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .or_else(|| {
                self.body
                    .get("deployments")
                    .and_then(Value::as_array)
                    .and_then(|d| d.first())
                    .and_then(|d| d.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
    }

    /// Deployments named by a 409 "app is locked" answer.
    pub(super) fn locking_deployments(&self) -> Option<Vec<String>> {
        let ds = self.body.get("deployments")?.as_array()?;
        Some(
            ds.iter()
                .filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect(),
        )
    }

    pub(super) fn error(&self, object: &str) -> DriverError {
        let detail = self.message();
        match self.status {
            401 | 403 => DriverError::Unauthorized {
                driver: DRIVER,
                detail,
            },
            404 => DriverError::NotFound {
                driver: DRIVER,
                object: object.to_owned(),
                detail,
            },
            409 => DriverError::Conflict {
                object: object.to_owned(),
                detail,
            },
            400 | 422 => DriverError::Invalid {
                driver: DRIVER,
                object: object.to_owned(),
                detail,
            },
            status => DriverError::Server {
                driver: DRIVER,
                status,
                detail,
            },
        }
    }
}

/// Deployment ids listed in an app's `deployments`.
pub(super) fn app_deployments(app: &Value) -> Vec<String> {
    app.get("deployments")
        .and_then(Value::as_array)
        .map(|ds| {
            ds.iter()
                .filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn count(app: &Value, field: &str) -> u32 {
    app.get(field)
        .and_then(Value::as_u64)
        .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Query-string encoding of a value (RFC 3986 unreserved kept).
pub(super) fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl MarathonDriver {
    /// One HTTP exchange. Transport failures are `driver_unavailable`.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, DriverError> {
        let unavailable = |detail: String| DriverError::Unavailable {
            driver: DRIVER,
            detail,
        };
        let uri = format!("{}{path}", self.base);
        let mut req = hyper::Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header(hyper::header::ACCEPT, "application/json");
        if let Some(token) = &self.opts.token {
            req = req.header(hyper::header::AUTHORIZATION, format!("token={token}"));
        }
        let payload = match body {
            Some(b) => {
                req = req.header(hyper::header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(b).map_err(|e| DriverError::Io(e.to_string()))?)
            }
            None => Bytes::new(),
        };
        let req = req
            .body(Full::new(payload))
            .map_err(|e| unavailable(format!("cannot build a request for {uri}: {e}")))?;
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| unavailable(format!("{method} {uri}: {e}")))?;
            let status = resp.status().as_u16();
            let deployment_header = resp
                .headers()
                .get("marathon-deployment-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| unavailable(format!("{method} {uri}: reading the answer: {e}")))?
                .to_bytes();
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                    let text = String::from_utf8_lossy(&bytes);
                    Value::String(text.chars().take(300).collect())
                })
            };
            Ok(Answer {
                status,
                body,
                deployment_header,
            })
        };
        match tokio::time::timeout(self.opts.request_timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(unavailable(format!(
                "{method} {uri}: no answer within {:?}",
                self.opts.request_timeout
            ))),
        }
    }

    pub(super) fn app_path(id: &str) -> String {
        format!("/v2/apps{id}")
    }

    /// The app, or `None` when Marathon does not know it.
    pub(super) async fn get_app(&self, id: &str) -> Result<Option<Value>, DriverError> {
        let a = self.call(Method::GET, &Self::app_path(id), None).await?;
        match a.status {
            200 => Ok(Some(a.body.get("app").cloned().unwrap_or(Value::Null))),
            404 => Ok(None),
            _ => Err(a.error(id)),
        }
    }

    /// Polls `GET /v2/deployments` until none of `ids` runs. Past the
    /// deadline, a deployment the driver started (`ours`) is rolled back
    /// and reported as `driver_deployment_stuck`; someone else's is left
    /// alone and reported as a transient `driver_conflict`.
    pub(super) async fn await_deployments(
        &self,
        ids: &[String],
        object: &str,
        ours: bool,
    ) -> Result<(), DriverError> {
        if ids.is_empty() {
            return Ok(());
        }
        let start = Instant::now();
        loop {
            let a = self.call(Method::GET, "/v2/deployments", None).await?;
            if !a.ok() {
                return Err(a.error("/v2/deployments"));
            }
            let running: Vec<&Value> = a
                .body
                .as_array()
                .map(|ds| {
                    ds.iter()
                        .filter(|d| {
                            d.get("id")
                                .and_then(Value::as_str)
                                .is_some_and(|id| ids.iter().any(|w| w == id))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let Some(first) = running.first() else {
                return Ok(());
            };
            let waited = start.elapsed();
            if waited >= self.opts.deployment_timeout {
                let id = first.get("id").and_then(Value::as_str).unwrap_or_default();
                let actions = first
                    .get("currentActions")
                    .map_or_else(String::new, |a| format!(", current actions {a}"));
                if !ours {
                    return Err(DriverError::Conflict {
                        object: object.to_owned(),
                        detail: format!(
                            "locked by Marathon deployment {id}{actions} for more than {waited:?}"
                        ),
                    });
                }
                // Without force Marathon starts a rollback deployment; a 404
                // means it ended meanwhile. Either way the step failed.
                let _ = self
                    .call(Method::DELETE, &format!("/v2/deployments/{id}"), None)
                    .await;
                return Err(DriverError::Stuck {
                    driver: DRIVER,
                    object: object.to_owned(),
                    waited,
                    detail: format!("Marathon deployment {id}{actions}"),
                });
            }
            tokio::time::sleep(self.opts.poll_interval).await;
        }
    }

    /// A write that waits out "app is locked by deployment" (409 naming the
    /// deployments) a few times. Returns the answer, whatever its status,
    /// except a lock that outlasts the retries (a transient `driver_conflict`).
    pub(super) async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        object: &str,
    ) -> Result<Answer, DriverError> {
        let mut last = None;
        for _ in 0..CONFLICT_RETRIES {
            let a = self.call(method.clone(), path, body).await?;
            match (a.status, a.locking_deployments()) {
                (409, Some(ids)) if !ids.is_empty() => {
                    self.await_deployments(&ids, object, false).await?;
                    last = Some(a);
                }
                _ => return Ok(a),
            }
        }
        Err(DriverError::Conflict {
            object: object.to_owned(),
            detail: last.map_or_else(|| "the app stayed locked".into(), |a| a.message()),
        })
    }

    /// Runs a write and waits for the deployment it started.
    pub(super) async fn finish(&self, a: &Answer, object: &str) -> Result<(), DriverError> {
        match a.deployment() {
            Some(id) => self.await_deployments(&[id], object, true).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(query_encode("io.vamp==x y"), "io.vamp%3D%3Dx%20y");
    }
}
