//! `vamp rollout plan` and `vamp rollout replay`, and rollouts in `vamp
//! check` and `vamp canonical`.

mod support;

use support::{json, vamp, TempDir};

const CART: &str = include_str!("../../examples/cart-rollout.yml");

/// The rollout written to a folder of the test's own.
fn cart(dir: &TempDir) -> String {
    let path = format!("{}/cart.yml", dir.path());
    std::fs::write(&path, CART).expect("write the rollout");
    path
}

/// The traffic of one side in the recorded log.
#[derive(Clone, Copy)]
struct Traffic {
    per_second: u64,
    median_ms: f64,
    error_p: f64,
}

const STABLE: Traffic = Traffic {
    per_second: 10,
    median_ms: 100.0,
    error_p: 0.0,
};

/// HAProxy JSON access-log lines of the internal gateway `cart/cart/web`
/// from 2024-05-01T12:00:00Z over `seconds` seconds, plus a line of another port and a broken line.
fn access_log(seconds: u64, candidate: Traffic) -> String {
    let mut out = String::new();
    // a fixed low-discrepancy sequence in [0, 1): the same log every run
    let mut i = 0u64;
    let mut next = move || {
        i += 1;
        (i * 7919 % 1000) as f64 / 1000.0
    };
    for s in 0..seconds {
        for (service, t) in [("cart:1.0", STABLE), ("cart:1.1", candidate)] {
            for k in 0..t.per_second {
                // uniform spread of +-50% around the median, whole ms
                let ms = (t.median_ms * (0.5 + next())).round();
                let status = if next() < t.error_p { 503 } else { 200 };
                let millis = k * 1000 / t.per_second;
                out.push_str(&format!(
                    "{{\"t\":\"01/May/2024:12:{:02}:{:02}.{millis:03}\",\"b\":\"cart_2fcart_2fweb_2f{service}\",\"Tt\":{ms},\"ST\":{status}}}\n",
                    (s / 60) % 60,
                    s % 60,
                ));
            }
        }
    }
    out.push_str("{\"t\":\"01/May/2024:12:00:00.000\",\"b\":\"cart_2fcart_2fadmin_2fcart:1.0\",\"Tt\":5,\"ST\":200}\n");
    out.push_str("not a log line\n");
    out
}

/// Replays the cart rollout over [`access_log`]: snapshots the human
/// output as `replay_{case}` and returns the JSON output of the same replay.
fn check(case: &str, candidate: Traffic, seconds: u64) -> serde_json::Value {
    let dir = TempDir::new(&format!("rollout-{case}"));
    let file = cart(&dir);
    let log = access_log(seconds, candidate);
    let run = |format| {
        vamp(
            &[
                "rollout", "replay", &file, "--logs", "-", "--format", format,
            ],
            Some(&log),
        )
    };
    insta::assert_snapshot!(format!("replay_{case}"), stdout(&run("human")));
    json(&run("json"))
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "vamp failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}

/// The names of the failing metrics of a replayed step.
fn failing(v: &serde_json::Value, step: usize) -> Vec<&str> {
    v["steps"][step]["judgement"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter(|m| m["verdict"] == "fail")
        .filter_map(|m| m["name"].as_str())
        .collect()
}

#[test]
fn plan_prints_the_timeline() {
    let dir = TempDir::new("rollout-plan");
    let file = cart(&dir);
    insta::assert_snapshot!(
        "plan_human",
        stdout(&vamp(&["rollout", "plan", &file], None))
    );
    let out = vamp(&["rollout", "plan", &file, "--format", "json"], None);
    insta::assert_snapshot!("plan_json", stdout(&out));
    let v = json(&out);
    assert_eq!(v["steps"][3]["end"], serde_json::Value::Null);
}

#[test]
fn replay_promotes_a_healthy_candidate() {
    let v = check("healthy", STABLE, 120);
    assert_eq!(
        (v["state"].as_str(), v["steps"].as_array().map(Vec::len)),
        (Some("promoted"), Some(3))
    );
    assert_eq!(v["rollout"], "cart-1.1");
}

#[test]
fn replay_rolls_back_a_slow_candidate_naming_the_metric() {
    let v = check(
        "slow",
        Traffic {
            median_ms: 150.0,
            ..STABLE
        },
        120,
    );
    assert_eq!(v["state"], "rolled_back");
    assert_eq!(failing(&v, 0), ["response_time"]);
}

#[test]
fn replay_rolls_back_an_erroring_candidate() {
    let v = check(
        "erroring",
        Traffic {
            error_p: 0.08,
            ..STABLE
        },
        120,
    );
    assert_eq!(v["state"], "rolled_back");
    assert_eq!(failing(&v, 0), ["error_rate", "error_rate"]);
}

#[test]
fn replay_without_candidate_traffic_waits_for_data() {
    let none = Traffic {
        per_second: 0,
        ..STABLE
    };
    let v = check("no_traffic", none, 60);
    assert_eq!(
        (v["state"].as_str(), &v["lines"]["candidate"]),
        (Some("waiting_for_data"), &serde_json::json!(0))
    );
    // past interval + max_wait: on_inconclusive (hold) applies
    assert_eq!(check("held", none, 400)["state"], "held");
}

#[test]
fn check_and_canonical_read_rollouts() {
    let dir = TempDir::new("rollout-check");
    let file = cart(&dir);
    let out = vamp(&["check", &file, "--format", "json"], None);
    assert!(out.status.success());
    assert_eq!(
        json(&out)[0]["documents"],
        serde_json::json!([{"kind": "rollout", "name": "cart-1.1"}])
    );
    let out = vamp(&["canonical", "rollouts", "-"], Some(CART));
    let v = json(&out);
    assert_eq!(v["steps"], serde_json::json!([5, 25, 50, 100]));
    assert_eq!(v["analysis"]["max_wait"], 300);
}

#[test]
fn a_bad_rollout_is_reported_with_its_position() {
    let bad = CART.replace("[5%, 25%, 50%, 100%]", "[5%, 25%, 25%, 100%]");
    let out = vamp(&["rollout", "plan", "-"], Some(&bad));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error[invalid_rollout_step]"), "{err}");
    assert!(err.contains("--> -:8:18"), "{err}");
    let out = vamp(&["canonical", "rollout", "-"], Some(&bad));
    assert_eq!(json(&out)["error"]["code"], "invalid_rollout_step");
    let two = format!("{CART}---\n{CART}");
    let out = vamp(&["rollout", "plan", "-"], Some(&two));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exactly one rollout"));
}
