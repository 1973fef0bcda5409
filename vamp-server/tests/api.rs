//! The REST API over real HTTP: gates, CRUD of every kind, the root
//! multi-document requests, pagination, errors, events and the SSE stream.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::{Srv, BREED};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gates_and_formats() {
    let (s, _) = Srv::memory().await;
    let c = reqwest::Client::new();
    let url = format!("{}/breeds", s.api);
    // No Accept, a wrong Accept, `charset` on its own: 400.
    let raw = support::raw(
        &s.api,
        "GET /api/v1/breeds HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(
        raw.contains("Request is missing required HTTP header 'Accept'"),
        "{raw}"
    );
    let r = s.get_as("breeds", "text/html").await;
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Only the following media types are supported"));
    let charset = s.get_as("breeds", "application/json; charset=utf-8").await;
    assert_eq!(charset.status(), 400);
    let any = s.get_as("breeds", "text/html, */*;q=0.1").await;
    assert_eq!(any.status(), 200);
    // Content-Type gate on writes.
    let r = c
        .post(&url)
        .header("Accept", "application/json")
        .header("Content-Type", "text/plain")
        .body(BREED)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // YAML answers, trailing slash, headers.
    let (st, _) = s.send("PUT", "breeds/sava:1.0", BREED).await;
    assert_eq!(st, 200);
    let r = s.get_as("breeds/sava:1.0/", "application/x-yaml").await;
    assert_eq!(r.headers()["content-type"], "application/x-yaml");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().contains("name: sava:1.0"));
    // Unknown kind, unknown path, missing artifact.
    let (st, v) = s.json("GET", "bogus", None).await;
    assert_eq!(
        (st, v["message"].as_str()),
        (400, Some("Unexpected resource: 'bogus'."))
    );
    let (st, _, body) = s.call("GET", "breeds/nope", None).await;
    assert_eq!(
        (st, body.as_str()),
        (404, "The requested resource could not be found.")
    );
    // Config needs no Accept; info does.
    let r = s.get_as("config", "").await;
    let cfg: Value = r.json().await.unwrap();
    assert_eq!(cfg["vamp.gateway-driver.host"], "127.0.0.1");
    assert!(cfg["vamp.operation.deployment.scale.instances"].is_number());
    let (st, info) = s.json("GET", "info", None).await;
    assert_eq!(st, 200);
    assert_eq!(info["container_driver"]["type"], "memory");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_of_every_kind() {
    let (s, _) = Srv::memory().await;
    let mut ev = s.events("").await;
    let docs = [
        ("breeds", "sava:1.0", BREED.to_owned(), 201, 200, 204),
        ("scales", "small", "name: small\ncpu: 0.5\nmemory: 512MB\ninstances: 2\n".into(), 201, 200, 204),
        ("slas", "fast", "name: fast\ntype: response_time_sliding_window\nthreshold: {upper: 1000, lower: 100}\nwindow: {interval: 60, cooldown: 60}\n".into(), 201, 200, 204),
        ("escalations", "up", "name: up\ntype: scale_instances\nminimum: 1\nmaximum: 3\nscale_by: 1\n".into(), 201, 200, 204),
        ("conditions", "ff", "name: ff\ncondition: User-Agent = Firefox\n".into(), 201, 200, 204),
        ("rewrites", "r", "name: r\npath: a if b\n".into(), 201, 200, 204),
        ("routes", "rt", "name: rt\nweight: 50%\n".into(), 201, 200, 204),
        ("templates", "tpl", "name: tpl\nclusters: {}\n".into(), 201, 200, 204),
        ("blueprints", "bp", support::blueprint("bp", &["1.0.0"], 1), 201, 200, 204),
        ("workflows", "wf", "name: wf\nbreed: sava:1.0\nschedule: daemon\nstatus: suspended\n".into(), 202, 202, 202),
        ("gateways", "gw", "name: gw\nport: 9050/http\nroutes:\n  sava/web: {weight: 100%}\n".into(), 202, 202, 202),
    ];
    for (kind, name, body, post, put, _) in &docs {
        let (st, v) = s.send("POST", kind, body).await;
        assert_eq!(st, *post, "POST {kind}: {v}");
        if *kind != "rewrites" {
            ev.wait(&[&format!("{kind}:{name}"), "archive:create"], 5)
                .await;
        }
        let (st, v) = s.json("GET", &format!("{kind}/{name}"), None).await;
        assert_eq!((st, v["name"].as_str()), (200, Some(*name)), "GET {kind}");
        assert_eq!(v["kind"], *kind);
        let (st, v) = s.send("PUT", &format!("{kind}/{name}"), body).await;
        assert_eq!(st, *put, "PUT {kind}: {v}");
        if *kind != "rewrites" {
            ev.wait(&[&format!("{kind}:{name}"), "archive:update"], 5)
                .await;
        }
        let (st, _, b) = s.call("GET", kind, None).await;
        assert_eq!(st, 200);
        assert!(b.contains(&format!("\"name\":\"{name}\"")));
    }
    // validate_only writes nothing.
    let (st, v) = s
        .send(
            "POST",
            "scales?validate_only=true",
            "name: tiny\ncpu: 1\nmemory: 1GB\ninstances: 1\n",
        )
        .await;
    assert_eq!((st, v["name"].as_str()), (201, Some("tiny")));
    assert_eq!(s.call("GET", "scales/tiny", None).await.0, 404);
    // Name mismatch, several documents, a reader error with its position.
    let (st, v) = s
        .send(
            "PUT",
            "scales/other",
            "name: small\ncpu: 1\nmemory: 1GB\ninstances: 1\n",
        )
        .await;
    assert_eq!(
        (st, v["message"].as_str()),
        (
            400,
            Some("Inconsistent name: given 'other' but found 'small'.")
        )
    );
    let (st, _) = s.send("POST", "scales", "name: a\ncpu: 1\nmemory: 1GB\ninstances: 1\n---\nname: b\ncpu: 1\nmemory: 1GB\ninstances: 1\n").await;
    assert_eq!(st, 400);
    let (st, v) = s
        .send("POST", "breeds", "name: x\ndeployable: a/b\nbogus: 1\n")
        .await;
    assert_eq!(
        (st, v["code"].as_str(), v["line"].as_u64()),
        (400, Some("unexpected_element"), Some(3))
    );
    // References: only_references and expand_references.
    let (_, v) = s
        .json("GET", "blueprints/bp?only_references=true", None)
        .await;
    assert_eq!(
        v["clusters"]["sava"]["services"][0]["breed"],
        json!({"reference": "sava:1.0.0"})
    );
    s.send(
        "PUT",
        "blueprints/ref",
        "name: ref\nclusters:\n  sava:\n    services:\n      breed: sava:1.0\n",
    )
    .await;
    let (_, v) = s
        .json("GET", "blueprints/ref?expand_references=true", None)
        .await;
    assert_eq!(
        v["clusters"]["sava"]["services"][0]["breed"]["deployable"]["definition"],
        "magneticio/sava:1.0.0"
    );
    let (_, v) = s
        .json(
            "GET",
            "blueprints/ref?expand_references=true&only_references=true",
            None,
        )
        .await;
    assert_eq!(
        v["clusters"]["sava"]["services"][0]["breed"],
        json!({"reference": "sava:1.0"})
    );
    // Deletes: 204/202, idempotent, archive:delete only when it existed.
    for (kind, name, _, _, _, del) in &docs {
        let (st, _, body) = s.call("DELETE", &format!("{kind}/{name}"), None).await;
        assert_eq!((st, body.as_str()), (*del, ""), "DELETE {kind}");
        if *kind != "rewrites" {
            ev.wait(&[&format!("{kind}:{name}"), "archive:delete"], 5)
                .await;
        }
        assert_eq!(s.call("GET", &format!("{kind}/{name}"), None).await.0, 404);
        assert_eq!(
            s.call("DELETE", &format!("{kind}/{name}"), None).await.0,
            *del
        );
    }
    // JavaScript breeds.
    let r = s
        .client
        .put(format!("{}/breeds/js", s.api))
        .header("Content-Type", "application/javascript")
        .body("console.log(1)")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = s.json("GET", "breeds/js", None).await;
    assert_eq!(v["deployable"]["type"], "application/javascript");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_requests_are_all_or_nothing() {
    let (s, _) = Srv::memory().await;
    let mut ev = s.events("?tag=archive").await;
    let two = format!("{BREED}---\nkind: scales\nname: small\ncpu: 1\nmemory: 1GB\ninstances: 1\n");
    let (st, v) = s.send("PUT", "", &two).await;
    assert_eq!(st, 202);
    assert_eq!(v.as_array().unwrap().len(), 2);
    // Root PUT is an update, even for a new artifact.
    ev.wait(&["breeds:sava:1.0", "archive:update"], 5).await;
    ev.wait(&["scales:small", "archive:update"], 5).await;
    // A JSON array counts as several documents.
    let (st, _) = s.send("POST", "", r#"[{"kind":"condition","name":"c1","condition":"Host = a"},{"kind":"templates","name":"t1","x":1}]"#).await;
    assert_eq!(st, 202);
    ev.wait(&["conditions:c1", "archive:create"], 5).await;
    assert_eq!(s.call("GET", "templates/t1", None).await.0, 200);
    // One bad document: nothing is written.
    let bad = "kind: breed\nname: ok\ndeployable: a/b\n---\nkind: breed\nname: broken\ndeployable: a/b\nnope: 1\n";
    let (st, v) = s.send("PUT", "", bad).await;
    assert_eq!((st, v["line"].as_u64()), (400, Some(8)), "{v}");
    assert_eq!(s.call("GET", "breeds/ok", None).await.0, 404);
    let (st, v) = s.send("PUT", "", "kind: nonsense\nname: x\n").await;
    assert_eq!(
        (st, v["message"].as_str()),
        (400, Some("Unexpected resource: 'nonsense'."))
    );
    assert_eq!(s.send("PUT", "", "name: x\n").await.0, 400);
    // Root DELETE with kind and name only; deletes answer booleans.
    let (st, v) = s
        .send(
            "DELETE",
            "",
            "kind: breed\nname: sava:1.0\n---\nkind: breed\nname: never\n",
        )
        .await;
    assert_eq!((st, v), (202, json!([true, false])));
    ev.wait(&["breeds:sava:1.0", "archive:delete"], 5).await;
    // Hostile bodies: invalid UTF-8, too deep, an alias bomb, too large.
    let r = s
        .client
        .put(format!("{}/", s.api))
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-yaml")
        .body(b"name: \xff\n".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
    assert_eq!(s.send("PUT", "", &deep).await.0, 400);
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        bomb.push_str(&format!(
            "{}: &{} [*{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}]\n",
            (b'b' + i) as char,
            (b'b' + i) as char,
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i) as char
        ));
    }
    let (st, v) = s.send("PUT", "", &bomb).await;
    assert_eq!((st, v["code"].as_str()), (400, Some("resource_limit")));
    // Refused from the announced length, before the body is sent.
    let raw = support::raw(&s.api, "PUT /api/v1/ HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nContent-Type: application/x-yaml\r\nContent-Length: 17000000\r\n\r\nname: x\n").await;
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_edges() {
    let (s, _) = Srv::memory().await;
    let mut body = String::new();
    for i in 0..35 {
        body.push_str(&format!(
            "---\nkind: condition\nname: c{i:02}\ncondition: Host = a\n"
        ));
    }
    assert_eq!(s.send("PUT", "", &body).await.0, 202);
    let page = |q: &'static str| {
        let s = &s;
        async move {
            let (st, h, b) = s.call("GET", &format!("conditions{q}"), None).await;
            assert_eq!(st, 200);
            let v: Value = serde_json::from_str(&b).unwrap();
            (
                v.as_array().unwrap().len(),
                h["x-total-count"].to_str().unwrap().to_owned(),
                h["link"].to_str().unwrap().to_owned(),
            )
        }
    };
    let (n, total, link) = page("").await;
    assert_eq!((n, total.as_str()), (30, "35"));
    assert!(link.contains("page=2&per_page=30>; rel=next"), "{link}");
    assert!(link.contains("page=1&per_page=30>; rel=prev"), "{link}");
    assert!(link.ends_with("page=2&per_page=30>; rel=last"), "{link}");
    assert_eq!(page("?page=2").await.0, 5);
    assert_eq!(page("?page=3").await.0, 0);
    assert_eq!(page("?page=0&per_page=0").await.0, 1);
    assert_eq!(page("?per_page=100").await.0, 30);
    let (n, _, link) = page("?per_page=10&page=4&tag=a&tag=b").await;
    assert_eq!(n, 5);
    assert!(
        link.contains("tag=b&page=4&per_page=10>; rel=last"),
        "{link}"
    );
    let (n, total, link) = page("?page=1").await;
    assert_eq!((n, total.as_str()), (30, "35"));
    assert!(link.contains("rel=first"));
    let (st, h, b) = s.call("GET", "workflows", None).await;
    assert_eq!(
        (st, b.as_str(), h["x-total-count"].to_str().unwrap()),
        (200, "[]", "0")
    );
    assert!(h["link"]
        .to_str()
        .unwrap()
        .ends_with("page=0&per_page=30>; rel=last"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_log_post_and_stream() {
    let (s, _) = Srv::memory().await;
    let mut all = s.events("").await;
    let mut only = s.events("?tag=custom:x&type=metrics").await;
    let (st, v) = s
        .send(
            "POST",
            "events",
            "tags: [custom:x, other]\nvalue: {a: 1}\ntype: metrics\n",
        )
        .await;
    assert_eq!(st, 201);
    assert_eq!(v["tags"], json!(["custom:x", "custom", "other"]));
    let (st, v) = s.send("POST", "events", "tags: single\n").await;
    assert_eq!(
        (st, v["type"].as_str(), v["tags"].clone()),
        (201, Some("event"), json!(["single"]))
    );
    let (st, v) = s.send("POST", "events", "tags: []\n").await;
    assert_eq!(
        (st, v["message"].as_str()),
        (
            400,
            Some("Publishing an event without tags is not allowed.")
        )
    );
    let (st, _) = s
        .send("POST", "events", "tags: [a]\ntype: 'bad type'\n")
        .await;
    assert_eq!(st, 400);
    let (st, v) = s
        .send("POST", "events", "tags: [a]\ntimestamp: nope\n")
        .await;
    assert_eq!(
        (st, v["message"].as_str()),
        (400, Some("Event timestamp cannot be parsed: 'nope'."))
    );
    // The stream: framing, filters, heartbeats as comments.
    let got = only.wait(&["custom"], 5).await;
    assert_eq!(got["value"], json!({"a": 1}));
    all.wait(&["single"], 5).await;
    // The next frame of the filtered stream is a heartbeat, not an event.
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), only.rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frame, ":\n\n");
    s.send("POST", "events", "tags: [custom:x]\ntype: metrics\n")
        .await;
    let raw = loop {
        let f = only.rx.recv().await.unwrap();
        if f.starts_with("data:") {
            break f;
        }
    };
    assert!(
        raw.starts_with("data:{\"version\":\"1.0\",\"tags\":[\"custom:x\",\"custom\"],"),
        "{raw}"
    );
    assert!(raw.ends_with("\nevent:metrics\n\n"), "{raw}");
    // The log: newest first, filters.
    let (_, v) = s.json("GET", "events?tag=custom", None).await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (_, v) = s.json("GET", "events", None).await;
    assert_eq!(v[0]["tags"][0], "custom:x");
    assert_eq!(v[1]["tags"][0], "single");
    let (_, v) = s.json("GET", "events?type=event", None).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_stream_client_never_blocks_the_server() {
    let mut config = support::config(&support::temp_dir("slow"));
    config.sse_lag = 8;
    let s = Srv::with(
        config,
        std::sync::Arc::new(vamp_drivers::MemoryDriver::new()),
    )
    .await;
    // A client that subscribes and never reads.
    let stalled = reqwest::Client::new()
        .get(format!("{}/events/stream", s.api))
        .send()
        .await
        .unwrap();
    let start = std::time::Instant::now();
    let big = "x".repeat(64 * 1024);
    for i in 0..300 {
        let (st, _) = s
            .send("POST", "events", &format!("tags: [n:{i}]\nvalue: {big}\n"))
            .await;
        assert_eq!(st, 201);
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    let mut fresh = s.events("").await;
    s.send("POST", "events", "tags: [after]\n").await;
    fresh.wait(&["after"], 5).await;
    drop(stalled);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_weights_ports_and_route_events() {
    let (s, _) = Srv::memory().await;
    let mut ev = s.events("?tag=gateways").await;
    let (st, v) = s
        .send(
            "POST",
            "gateways",
            "name: g1\nport: 9050/http\nroutes:\n  a/web: {}\n  b/web: {}\n  c/web: {}\n",
        )
        .await;
    assert_eq!(st, 202);
    assert_eq!(v["routes"]["a/web"]["weight"], 33);
    assert_eq!(v["routes"]["c/web"]["weight"], 34);
    assert_eq!(v["routes"]["c/web"]["condition_strength"], 0);
    ev.wait(&["gateways:g1", "route:added", "routes:a/web"], 5)
        .await;
    // Port in use; no port takes one from the range; weights over 100.
    let (st, v) = s
        .send(
            "POST",
            "gateways",
            "name: g2\nport: 9050\nroutes:\n  a/web: {}\n",
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (400, Some("unavailable_gateway_port"))
    );
    let (st, v) = s
        .send("PUT", "gateways/g3", "name: g3\nroutes:\n  a/web: {}\n")
        .await;
    assert_eq!(st, 202);
    assert_eq!(v["port"]["number"], 40000);
    let (st, _) = s
        .send(
            "PUT",
            "gateways/g4",
            "name: g4\nroutes:\n  a/web: {weight: 70%}\n  b/web: {weight: 70%}\n",
        )
        .await;
    assert_eq!(st, 400);
    // A weight change and a removed route are route events.
    s.send(
        "PUT",
        "gateways/g1",
        "name: g1\nport: 9050/http\nroutes:\n  a/web: {weight: 50%}\n  b/web: {weight: 50%}\n",
    )
    .await;
    ev.wait(&["gateways:g1", "route:weightupdated", "routes:a/web"], 5)
        .await;
    ev.wait(&["gateways:g1", "route:removed", "routes:c/web"], 5)
        .await;
    // Internal gateways cannot be made through the API.
    let (st, _) = s
        .send(
            "POST",
            "gateways",
            "name: d/c/web\nroutes:\n  d/c/x/web: {}\n",
        )
        .await;
    assert_eq!(st, 400);
    s.call("DELETE", "gateways/g1", None).await;
    ev.wait(&["gateways:g1", "undeployed"], 5).await;
    s.stop().await;
}
