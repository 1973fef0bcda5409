//! Rollouts: a canary release declared as steps of candidate weight.
//!
//! Checks beyond the shape: names follow the name rule (`illegal_name`);
//! `steps` is a list of percentages, each above 0%, strictly increasing and
//! ending at 100% (`invalid_rollout_step` at the offending step; over 100% is
//! `unexpected_type` like every percentage); `interval`, `max_wait` are
//! durations; `min_samples` is a whole number from 1; `confidence` lies in
//! 50%–99%; `metrics` are `response_time` (`max_increase` required) and
//! `error_rate` (`max` and/or `max_increase`); unknown keys anywhere are
//! `unexpected_element` with a "did you mean" hint.

use vamp_model::rollout::{Analysis, Metric, OnFailure, OnInconclusive, Rollout};
use vamp_model::units::{parse_duration, parse_percentage};
use vamp_model::Code;

use super::breed::{check_name, unit};
use super::ctx::{display_path, index, join, required, text, Ctx, Fields, SHAPE};
use crate::yaml::Node;

/// The fields of a rollout document (after `kind`, `name`, `metadata`).
pub(crate) fn read_rollout_fields(ctx: &mut Ctx, f: &mut Fields<'_>) -> Option<Rollout> {
    let path = f.path.clone();
    let name_of = |ctx: &mut Ctx, f: &mut Fields<'_>, key: &'static str| {
        let node = required(ctx, f, key)?;
        let p = join(&path, key);
        let name = text(ctx, node, &p)?;
        check_name(ctx, &name, node.span, &p).then_some(name)
    };
    let deployment = name_of(ctx, f, "deployment");
    let cluster = name_of(ctx, f, "cluster");
    let port = match f.get_some("port") {
        Some(node) => {
            let p = join(&path, "port");
            let name = text(ctx, node, &p)?;
            Some(check_name(ctx, &name, node.span, &p).then_some(name)?)
        }
        None => None,
    };
    let from = name_of(ctx, f, "from");
    let to = name_of(ctx, f, "to");
    let steps = required(ctx, f, "steps").and_then(|n| read_steps(ctx, n, &join(&path, "steps")));
    let interval = match f.get_some("interval") {
        Some(n) => positive_duration(ctx, n, &join(&path, "interval")),
        None => Some(Rollout::DEFAULT_INTERVAL),
    };
    let analysis = match f.get_some("analysis") {
        Some(n) => read_analysis(ctx, n, &join(&path, "analysis")),
        None => Some(Analysis::default()),
    };
    let on_failure = match f.get_some("on_failure") {
        Some(n) => choice(
            ctx,
            n,
            &join(&path, "on_failure"),
            &[
                ("rollback", OnFailure::Rollback),
                ("undeploy", OnFailure::Undeploy),
            ],
        ),
        None => Some(OnFailure::Rollback),
    };
    let on_inconclusive = match f.get_some("on_inconclusive") {
        Some(n) => choice(
            ctx,
            n,
            &join(&path, "on_inconclusive"),
            &[
                ("hold", OnInconclusive::Hold),
                ("rollback", OnInconclusive::Rollback),
                ("promote", OnInconclusive::Promote),
            ],
        ),
        None => Some(OnInconclusive::Hold),
    };
    Some(Rollout {
        deployment: deployment?,
        cluster: cluster?,
        port,
        from: from?,
        to: to?,
        steps: steps?,
        interval: interval?,
        analysis: analysis?,
        on_failure: on_failure?,
        on_inconclusive: on_inconclusive?,
    })
}

/// `steps: [5%, 25%, 100%]`: above 0%, increasing, ending at 100%.
fn read_steps(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Vec<u8>> {
    let Some(items) = node.as_seq() else {
        ctx.wrong_type(
            node,
            path,
            "a list of percentages such as `[10%, 50%, 100%]`",
        );
        return None;
    };
    let mut steps = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        let Some(weight) = percentage(ctx, item, &p) else {
            ok = false;
            continue;
        };
        let previous = steps.last().copied();
        let problem = if weight == 0 {
            Some("a step of 0% sends the candidate no traffic: start above 0%".to_owned())
        } else {
            previous.filter(|prev| weight <= *prev).map(|prev| {
                format!(
                    "steps must increase, but {weight}% follows {prev}%: write each step's weight above the one before"
                )
            })
        };
        if let Some(message) = problem {
            ctx.report(SHAPE, Code::InvalidRolloutStep, item.span, &p, message);
            ok = false;
        }
        steps.push(weight);
    }
    match (steps.last(), items.last()) {
        (None, _) => {
            ctx.report(
                SHAPE,
                Code::InvalidRolloutStep,
                node.span,
                path,
                format!(
                    "`{path}` is empty: list the candidate's weight at each step, ending at 100%"
                ),
            );
            return None;
        }
        (Some(&last), Some(item)) if ok && last != 100 => {
            ctx.report(
                SHAPE,
                Code::InvalidRolloutStep,
                item.span,
                &index(path, items.len() - 1),
                format!("the last step is {last}%: a rollout ends with the candidate at 100%"),
            );
            ok = false;
        }
        _ => {}
    }
    ok.then_some(steps)
}

fn read_analysis(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Analysis> {
    let mut f = Fields::inner(ctx, node, path)?;
    let defaults = Analysis::default();
    let min_samples = match f.get_some("min_samples") {
        Some(n) => whole_number(ctx, n, &join(path, "min_samples")),
        None => Some(defaults.min_samples),
    };
    let max_wait = match f.get_some("max_wait") {
        Some(n) => {
            let p = join(path, "max_wait");
            let t = text(ctx, n, &p)?;
            unit(ctx, parse_duration(&t), n.span, &p)
        }
        None => Some(defaults.max_wait),
    };
    let confidence = match f.get_some("confidence") {
        Some(n) => {
            let p = join(path, "confidence");
            percentage(ctx, n, &p).and_then(|c| {
                if (50..=99).contains(&c) {
                    return Some(c);
                }
                ctx.bad_value(
                    n.span,
                    &p,
                    format!("`{p}` is {c}%: write a confidence from 50% to 99%"),
                )
            })
        }
        None => Some(defaults.confidence),
    };
    let metrics = match f.get_some("metrics") {
        Some(n) => read_metrics(ctx, n, &join(path, "metrics")),
        None => Some(defaults.metrics),
    };
    f.finish(ctx);
    Some(Analysis {
        min_samples: min_samples?,
        max_wait: max_wait?,
        confidence: confidence?,
        metrics: metrics?,
    })
}

/// `metrics:` a list of one-key maps `- response_time: {max_increase: 20%}`
/// (a map may also hold both metrics).
fn read_metrics(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Vec<Metric>> {
    let Some(items) = node.as_seq() else {
        ctx.wrong_type(node, path, "a list of metrics");
        return None;
    };
    if items.is_empty() {
        ctx.report(
            SHAPE,
            Code::MissingPathValue,
            node.span,
            path,
            format!("`{path}` is empty: add `response_time` or `error_rate`"),
        );
        return None;
    }
    let mut metrics = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        let Some(mut f) = Fields::of(
            ctx,
            item,
            &p,
            "a metric such as `response_time: {max_increase: 20%}`",
        ) else {
            ok = false;
            continue;
        };
        let before = metrics.len();
        if let Some(n) = f.get("response_time") {
            let m = read_response_time(ctx, n, &join(&p, "response_time"));
            ok &= m.is_some();
            metrics.extend(m);
        }
        if let Some(n) = f.get("error_rate") {
            let m = read_error_rate(ctx, n, &join(&p, "error_rate"));
            ok &= m.is_some();
            metrics.extend(m);
        }
        if metrics.len() == before && f.node.as_map().is_some_and(<[_]>::is_empty) {
            ctx.report(
                SHAPE,
                Code::MissingPathValue,
                item.span,
                &p,
                format!("`{p}` names no metric: write `response_time` or `error_rate`"),
            );
            ok = false;
        }
        f.finish(ctx);
    }
    ok.then_some(metrics)
}

fn read_response_time(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Metric> {
    let mut f = Fields::inner(ctx, node, path)?;
    let max_increase = required(ctx, &mut f, "max_increase")
        .and_then(|n| percentage(ctx, n, &join(path, "max_increase")));
    f.finish(ctx);
    Some(Metric::ResponseTime {
        max_increase: max_increase?,
    })
}

fn read_error_rate(ctx: &mut Ctx, node: &Node, path: &str) -> Option<Metric> {
    let mut f = Fields::inner(ctx, node, path)?;
    let limit = |ctx: &mut Ctx, f: &mut Fields<'_>, key: &'static str| match f.get_some(key) {
        Some(n) => percentage(ctx, n, &join(path, key)).map(Some),
        None => Some(None),
    };
    let max = limit(ctx, &mut f, "max");
    let max_increase = limit(ctx, &mut f, "max_increase");
    if let (Some(None), Some(None)) = (max, max_increase) {
        ctx.report(
            SHAPE,
            Code::MissingPathValue,
            f.span(),
            path,
            format!("`{path}` sets no limit: add `max` (a cap) or `max_increase` (over stable), or both"),
        );
    }
    f.finish(ctx);
    match (max?, max_increase?) {
        (None, None) => None,
        (max, max_increase) => Some(Metric::ErrorRate { max, max_increase }),
    }
}

fn percentage(ctx: &mut Ctx, node: &Node, path: &str) -> Option<u8> {
    let t = text(ctx, node, path)?;
    unit(ctx, parse_percentage(&t), node.span, path)
}

fn positive_duration(ctx: &mut Ctx, node: &Node, path: &str) -> Option<u64> {
    let t = text(ctx, node, path)?;
    let seconds = unit(ctx, parse_duration(&t), node.span, path)?;
    if seconds == 0 {
        return ctx.bad_value(
            node.span,
            path,
            format!("`{path}` is 0: a step runs at least one second"),
        );
    }
    Some(seconds)
}

fn whole_number(ctx: &mut Ctx, node: &Node, path: &str) -> Option<u64> {
    let t = text(ctx, node, path)?;
    match t.trim().parse::<u64>() {
        Ok(v) if v >= 1 => Some(v),
        _ => ctx.bad_value(
            node.span,
            path,
            format!("`{path}` must be a whole number from 1, not `{t}`"),
        ),
    }
}

/// One of a fixed set of words.
fn choice<T: Copy>(ctx: &mut Ctx, node: &Node, path: &str, options: &[(&str, T)]) -> Option<T> {
    let t = text(ctx, node, path)?;
    if let Some((_, v)) = options.iter().find(|(word, _)| *word == t.trim()) {
        return Some(*v);
    }
    let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
    ctx.bad_value(
        node.span,
        path,
        format!(
            "`{}` is `{t}`: write one of {}",
            display_path(path),
            words.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use vamp_model::{Document, Kind};

    use crate::{read, ReadOptions};

    /// The issue's example, also read by the CLI tests.
    const FULL: &str = include_str!("../../../examples/cart-rollout.yml");

    /// The first error's code, path and 1-based line, or None.
    fn first_error(src: &str) -> Option<(String, String, u32)> {
        let out = read(src, ReadOptions::default());
        out.first_error().map(|d| {
            (
                d.code.as_str().to_owned(),
                d.path.clone(),
                d.span.map_or(0, |s| s.line),
            )
        })
    }

    fn with(from: &str, to: &str) -> String {
        assert!(FULL.contains(from), "{from}");
        FULL.replace(from, to)
    }

    #[test]
    fn reads_the_issue_example_to_canonical_json() {
        let out = read(FULL, ReadOptions::default());
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let Document::Rollout(r) = &out.documents[0] else {
            panic!("not a rollout: {:?}", out.documents[0].kind())
        };
        assert_eq!(r.spec.steps, [5, 25, 50, 100]);
        let json = serde_json::to_value(&out.documents[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "rollout", "name": "cart-1.1", "metadata": {},
                "deployment": "cart", "cluster": "cart", "port": "web",
                "from": "cart:1.0", "to": "cart:1.1", "steps": [5, 25, 50, 100], "interval": 30,
                "analysis": {"min_samples": 100, "max_wait": 300, "confidence": 95, "metrics": [
                    {"response_time": {"max_increase": 20}},
                    {"error_rate": {"max": 1, "max_increase": 1}}]},
                "on_failure": "rollback", "on_inconclusive": "hold"
            })
        );
    }

    #[test]
    fn defaults_and_kind_inference() {
        let src = "name: r\ndeployment: d\ncluster: c\nfrom: a\nto: b\nsteps: [100%]\n";
        let out = read(src, ReadOptions::default());
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(out.documents[0].kind(), Kind::Rollout);
        let json = serde_json::to_value(&out.documents[0]).unwrap();
        assert_eq!(json["port"], serde_json::Value::Null);
        assert_eq!(json["interval"], 30);
        assert_eq!(json["analysis"]["confidence"], 95);
        assert_eq!(json["on_failure"], "rollback");
        assert_eq!(json["on_inconclusive"], "hold");
        let plural = read(
            &format!("kind: Rollouts\n{src}"),
            ReadOptions {
                kind: Some(Kind::Rollout),
                ..ReadOptions::default()
            },
        );
        assert!(plural.first_error().is_none());
    }

    #[test]
    fn steps_increase_start_above_zero_and_end_at_100() {
        let case = |steps: &str| first_error(&with("[5%, 25%, 50%, 100%]", steps));
        let step = |path: &str| Some(("invalid_rollout_step".to_owned(), path.to_owned(), 8));
        assert_eq!(case("[25%, 5%, 100%]"), step("steps[1]"));
        assert_eq!(case("[25%, 25%, 100%]"), step("steps[1]"));
        assert_eq!(case("[0%, 100%]"), step("steps[0]"));
        assert_eq!(case("[5%, 50%]"), step("steps[1]"));
        assert_eq!(case("[]"), step("steps"));
        assert_eq!(
            case("[5%, 101%]"),
            Some(("unexpected_type".into(), "steps[1]".into(), 8))
        );
        assert_eq!(
            case("[5, 100%]"),
            Some(("unexpected_type".into(), "steps[0]".into(), 8))
        );
        assert_eq!(
            case("50%"),
            Some(("unexpected_type".into(), "steps".into(), 8))
        );
    }

    #[test]
    fn unknown_keys_are_unexpected_elements_with_a_hint() {
        let out = read(&with("on_failure:", "on_falure:"), ReadOptions::default());
        let d = out.first_error().unwrap();
        assert_eq!(
            (d.code.as_str(), d.path.as_str()),
            ("unexpected_element", "on_falure")
        );
        assert_eq!(d.help.as_deref(), Some("did you mean `on_failure`?"));
        let out = read(&with("max_wait", "max_wiat"), ReadOptions::default());
        let d = out.first_error().unwrap();
        assert_eq!(
            (d.code.as_str(), d.path.as_str()),
            ("unexpected_element", "analysis.max_wiat")
        );
        assert_eq!(
            first_error(&with("- response_time:", "- latency:")),
            Some((
                "unexpected_element".into(),
                "analysis.metrics[0].latency".into(),
                15
            ))
        );
        assert_eq!(
            first_error(&with("max: 1%, ", "cap: 1%, ")),
            Some((
                "unexpected_element".into(),
                "analysis.metrics[1].error_rate.cap".into(),
                16
            ))
        );
    }

    #[test]
    fn values_are_checked_with_their_position() {
        let cases = [
            (
                ("confidence: 95%", "confidence: 100%"),
                ("unexpected_type", "analysis.confidence", 13),
            ),
            (
                ("confidence: 95%", "confidence: 0.95"),
                ("unexpected_type", "analysis.confidence", 13),
            ),
            (
                ("min_samples: 100", "min_samples: 0"),
                ("unexpected_type", "analysis.min_samples", 11),
            ),
            (
                ("interval: 30s", "interval: 0s"),
                ("unexpected_type", "interval", 9),
            ),
            (
                ("max_wait: 5m", "max_wait: soon"),
                ("unexpected_type", "analysis.max_wait", 12),
            ),
            (
                ("on_inconclusive: hold", "on_inconclusive: wait"),
                ("unexpected_type", "on_inconclusive", 18),
            ),
            (
                ("from: cart:1.0", "from: cart 1.0"),
                ("illegal_name", "from", 6),
            ),
            (
                ("deployment: cart\n", ""),
                ("missing_path_value", "deployment", 1),
            ),
            (
                ("{max: 1%, max_increase: 1%}", "{}"),
                ("missing_path_value", "analysis.metrics[1].error_rate", 16),
            ),
            (
                ("{max_increase: 20%}", "{}"),
                (
                    "missing_path_value",
                    "analysis.metrics[0].response_time.max_increase",
                    15,
                ),
            ),
            (
                ("- error_rate: {max: 1%, max_increase: 1%}\n", "- {}\n"),
                ("missing_path_value", "analysis.metrics[1]", 16),
            ),
        ];
        for ((from, to), (code, path, line)) in cases {
            assert_eq!(
                first_error(&with(from, to)),
                Some((code.to_owned(), path.to_owned(), line)),
                "{to}"
            );
        }
    }
}
