//! Workflows run by the server with real `node` (skipped, saying so, when
//! node is not on the PATH): daemon, delete, crash backoff, status
//! changes, errors, environment, schedules, the event rate limit.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{config, eventually, temp_dir, Srv};
use vamp_drivers::MemoryDriver;

fn node() -> bool {
    let ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: node is not on the PATH");
    }
    ok
}

/// A server that runs workflows; None (the test is skipped) without node.
async fn server() -> Option<Srv> {
    if !node() {
        return None;
    }
    let dir = temp_dir("wf");
    let mut c = config(&dir);
    c.workflow.inherit_env = vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())];
    c.workflow.event_rate = 20;
    Some(Srv::with(c, std::sync::Arc::new(MemoryDriver::new())).await)
}

/// A script posting an event with `tags` through plain http (no client module needed).
fn poster(tags: &str, then: &str) -> String {
    format!(
        r#"const http = require('http');
const u = new URL(process.env.VAMP_URL + '/api/v1/events');
function post(tags, value, done) {{
  const r = http.request(u, {{method: 'POST', headers: {{'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'token ' + process.env.VAMP_API_TOKEN}}}}, res => {{ res.resume(); res.on('end', () => done && done(res.statusCode)); }});
  r.end(JSON.stringify({{tags, value}}));
}}
post({tags}, JSON.stringify(process.env), () => {{ {then} }});
"#
    )
}

async fn put_breed(s: &Srv, name: &str, js: &str) {
    let r = s
        .client
        .put(format!("{}/breeds/{name}", s.api))
        .header("Content-Type", "application/javascript")
        .header("Accept", "application/json")
        .body(js.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn status(s: &Srv, name: &str) -> Value {
    s.json("GET", &format!("workflows/{name}/status"), None)
        .await
        .1
}

#[tokio::test]
async fn daemon_runs_restarts_with_backoff_suspends_and_deletes() {
    let Some(s) = server().await else { return };
    let mut sse = s.events("").await;
    put_breed(&s, "p", &poster("['workflows:p', 'ok']", "process.exit(1)")).await;
    let (code, _) = s
        .send(
            "PUT",
            "workflows/p",
            "name: p\nbreed: p\nschedule: daemon\nenvironment_variables:\n  W: ${workflow}-x\n",
        )
        .await;
    assert_eq!(code, 202);
    sse.wait(&["workflows:p", "scheduled"], 10).await;
    assert_eq!(status(&s, "p").await, "running");
    let first = sse.wait(&["workflows:p", "ok"], 10).await;
    assert_eq!(first["type"], "event");
    assert!(first["tags"]
        .as_array()
        .unwrap()
        .contains(&Value::from("workflows")));
    let env: Value = serde_json::from_str(first["value"].as_str().unwrap()).unwrap();
    assert_eq!(env["VAMP_API_CACHE"], "false");
    assert_eq!(env["W"], "p-x");
    assert!(env["VAMP_URL"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert!(env.get("VAMP_NAMESPACE").is_none());
    // The crashing script is rerun with growing gaps (about 1, 2, 4 s).
    let mut at = vec![Instant::now()];
    for _ in 0..3 {
        sse.wait(&["workflows:p", "ok"], 10).await;
        at.push(Instant::now());
    }
    let gaps: Vec<f64> = at.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    assert!(
        gaps[1] > gaps[0] + 0.5 && gaps[2] > gaps[1] + 1.0,
        "gaps {gaps:?}"
    );
    assert_eq!(status(&s, "p").await, "running");
    // A running workflow cannot be rewritten.
    let (code, body) = s.send("PUT", "workflows/p", "name: p\nbreed: p\n").await;
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "Workflow update is possible only if workflow is not running, current status: running."
    );
    // Suspend, then resume.
    let (code, _) = s.send("PUT", "workflows/p/status", "suspended").await;
    assert_eq!(code, 202);
    sse.wait(&["workflows:p", "unscheduled"], 10).await;
    assert_eq!(status(&s, "p").await, "suspended");
    let (code, _) = s
        .send(
            "PUT",
            "workflows/p",
            "name: p\nbreed: p\nstatus: suspended\n",
        )
        .await;
    assert_eq!(code, 202);
    let (code, _) = s.send("PUT", "workflows/p/status", "running").await;
    assert_eq!(code, 202);
    sse.wait(&["workflows:p", "scheduled"], 10).await;
    let (code, body) = s.send("PUT", "workflows/p/status", "bogus").await;
    assert_eq!(
        (code, body["message"].as_str()),
        (400, Some("Illegal workflow status: bogus."))
    );
    // The output is kept.
    let (_, logs) = s.json("GET", "workflows/p/logs", None).await;
    assert!(logs.is_string());
    // Delete: archive:delete, then unscheduled, then 404.
    let (code, _, _) = s.call("DELETE", "workflows/p", None).await;
    assert_eq!(code, 202);
    sse.wait(&["workflows:p", "archive:delete"], 10).await;
    sse.wait(&["workflows:p", "unscheduled"], 10).await;
    assert_eq!(s.call("GET", "workflows/p", None).await.0, 404);
    s.stop().await;
}

#[tokio::test]
async fn time_and_event_schedules_and_the_event_rate_limit() {
    let Some(s) = server().await else { return };
    let mut sse = s.events("").await;
    put_breed(&s, "t", &poster("['tick:t']", "")).await;
    let every_second = "name: t\nbreed: t\nschedule:\n  time:\n    period: PT1S\n    repeat: 3\n";
    s.send("PUT", "workflows/t", every_second).await;
    for _ in 0..3 {
        sse.wait(&["tick:t"], 10).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, ticks) = s.json("GET", "events?tag=tick:t", None).await;
    assert_eq!(ticks.as_array().unwrap().len(), 3);
    // One run per matching event, with the event as VAMP_WORKFLOW_DATA.
    put_breed(&s, "e", &poster("['ran:e']", "")).await;
    let on_event = "name: e\nbreed: e\nschedule:\n  event: [x:y]\n";
    s.send("PUT", "workflows/e", on_event).await;
    sse.wait(&["workflows:e", "scheduled"], 10).await;
    s.send("POST", "events", "tags: [x:y, other]\nvalue: 42\n")
        .await;
    let ran = sse.wait(&["ran:e"], 10).await;
    let env: Value = serde_json::from_str(ran["value"].as_str().unwrap()).unwrap();
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD
        .decode(env["VAMP_WORKFLOW_DATA"].as_str().unwrap())
        .unwrap();
    let event: Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(event["value"], 42);
    // A flooding workflow gets 429s and a note; the server keeps answering.
    let flood = "const http = require('http');\nconst u = new URL(process.env.VAMP_URL + '/api/v1/events');\nlet n = 0;\nfunction go() { const r = http.request(u, {method: 'POST', headers: {'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'token ' + process.env.VAMP_API_TOKEN}}, res => { res.resume(); if (res.statusCode === 429) { console.log('limited'); } if (++n < 200) go(); }); r.end(JSON.stringify({tags: ['flood']})); }\ngo();\nsetInterval(() => {}, 1000);\n";
    put_breed(&s, "f", flood).await;
    s.send("PUT", "workflows/f", "name: f\nbreed: f\n").await;
    let logs = async || s.json("GET", "workflows/f/logs", None).await.1;
    let limited = eventually(10, 200, async || {
        logs().await.as_str().unwrap().contains("limited")
    })
    .await;
    let logs = logs().await;
    assert!(limited, "no 429 within 10 s: {logs}");
    assert!(logs.as_str().unwrap().contains("events per second"));
    let (_, flooded) = s.json("GET", "events?tag=flood&per_page=30", None).await;
    assert!(flooded.as_array().is_some());
    s.stop().await;
}

#[tokio::test]
async fn errors_and_restart() {
    let Some(s) = server().await else { return };
    let refused = [
        (
            "schedule: weekly",
            "Undefined workflow schedule - only daemon, event and time schedules are supported.",
        ),
        ("status: dancing", "Illegal workflow status: dancing."),
        (
            "schedule:\n  time: now",
            "Illegal workflow schedule period: now.",
        ),
    ];
    for (field, message) in refused {
        let body = format!("name: w\nbreed: b\n{field}\n");
        let (code, v) = s.send("PUT", "workflows/w", &body).await;
        assert_eq!(
            (code, v["message"].as_str()),
            (400, Some(message)),
            "{body}"
        );
    }
    assert_eq!(s.call("GET", "workflows/none/status", None).await.0, 404);
    // A suspended workflow stays idle over a restart; a running one runs again.
    put_breed(
        &s,
        "r",
        &poster("['again:r']", "setInterval(() => {}, 1000)"),
    )
    .await;
    s.send("PUT", "workflows/r", "name: r\nbreed: r\n").await;
    s.send(
        "PUT",
        "workflows/q",
        "name: q\nbreed: r\nstatus: suspended\n",
    )
    .await;
    let mut sse = s.events("").await;
    sse.wait(&["again:r"], 10).await;
    let dir = s.dir.clone();
    s.stop().await;
    let mut c = config(&dir);
    c.workflow.inherit_env = vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())];
    let s = Srv::with(c, std::sync::Arc::new(MemoryDriver::new())).await;
    let again = eventually(10, 200, async || {
        s.json("GET", "events?tag=again:r", None).await.1 != Value::Array(Vec::new())
    })
    .await;
    assert!(again, "the running workflow did not run again");
    assert_eq!(status(&s, "r").await, "running");
    assert_eq!(status(&s, "q").await, "suspended");
    let (_, q) = s.json("GET", "workflows/q", None).await;
    assert!(q.get("instances").is_none());
    s.stop().await;
}

#[tokio::test]
async fn default_artifacts_are_written_on_an_empty_store_only() {
    let dir = temp_dir("wf-defaults");
    let mut c = config(&dir);
    c.workflow.default_artifacts = true;
    let s = Srv::with(c.clone(), std::sync::Arc::new(MemoryDriver::new())).await;
    let defaults = eventually(10, 100, async || {
        s.call("GET", "workflows/health", None).await.0 == 200
    })
    .await;
    assert!(defaults, "no default workflows");
    let (_, b) = s.json("GET", "breeds/metrics", None).await;
    assert_eq!(b["deployable"]["type"], "application/javascript");
    let (_, w) = s.json("GET", "workflows/metrics", None).await;
    assert_eq!(w["schedule"], "daemon");
    s.call("DELETE", "breeds/health", None).await;
    s.stop().await;
    let s = Srv::with(c, std::sync::Arc::new(MemoryDriver::new())).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.call("GET", "breeds/health", None).await.0, 404);
    s.stop().await;
}
