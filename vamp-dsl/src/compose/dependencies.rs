//! `depends_on` and `links` as breed dependencies, and the cycle check.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn add_dependency(
    cx: &mut Cx,
    alias: &str,
    target: &str,
    span: Span,
    path: &str,
    breeds: &HashMap<&str, &str>,
    deps: &mut Map<OrRef<Breed>>,
    depends: &mut Vec<(String, Span)>,
) {
    let Some(breed) = breeds.get(target) else {
        cx.error_help(
            Code::UnresolvedBreedDependency,
            span,
            path,
            format!("`{target}` is not a service of this file"),
            "name a service defined under `services:`",
        );
        return;
    };
    if !cx.check_name(alias, Some(span), path, "dependency") {
        return;
    }
    depends.push((target.to_owned(), span));
    if deps.contains_key(alias) {
        return;
    }
    deps.insert(
        alias.to_owned(),
        OrRef::Reference(Reference {
            name: (*breed).to_owned(),
            span: Some(span),
        }),
    );
}

pub(super) fn read_depends_on(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    breeds: &HashMap<&str, &str>,
    deps: &mut Map<OrRef<Breed>>,
    depends: &mut Vec<(String, Span)>,
) {
    if node.is_null() {
        return;
    }
    if let Some(items) = node.as_seq() {
        for (i, item) in items.iter().enumerate() {
            let p = index(path, i);
            if let Some(name) = scalar_text(cx, item, &p) {
                add_dependency(cx, name, name, item.span, &p, breeds, deps, depends);
            }
        }
        return;
    }
    let Some(fields) = map_of(
        cx,
        node,
        path,
        "a list of service names or a map of services to conditions",
    ) else {
        return;
    };
    for e in fields {
        let p = join(path, &e.key);
        add_dependency(cx, &e.key, &e.key, e.key_span, &p, breeds, deps, depends);
        if e.value.is_null() {
            continue;
        }
        let Some(opts) = map_of(cx, &e.value, &p, "a map with `condition`") else {
            continue;
        };
        for o in opts {
            let op = join(&p, &o.key);
            let value = o.value.as_str().unwrap_or_default();
            let harmless = match o.key.as_str() {
                "condition" => value == "service_started",
                "required" => value.eq_ignore_ascii_case("true"),
                "restart" => value.eq_ignore_ascii_case("false"),
                _ => false,
            };
            if !harmless {
                cx.not_imported(
                    o.key_span,
                    &op,
                    Some("Vamp starts a service once the services it depends on are deployed"),
                );
            }
        }
    }
}

pub(super) fn read_links(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    breeds: &HashMap<&str, &str>,
    deps: &mut Map<OrRef<Breed>>,
    depends: &mut Vec<(String, Span)>,
) {
    if node.is_null() {
        return;
    }
    let Some(items) = node.as_seq() else {
        cx.wrong_type(node, path, "a list of `SERVICE` or `SERVICE:ALIAS`");
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        if let Some(text) = scalar_text(cx, item, &p) {
            let (target, alias) = text.split_once(':').unwrap_or((text, text));
            add_dependency(cx, alias, target, item.span, &p, breeds, deps, depends);
        }
    }
}

/// Reports the first cycle of `depends_on`/`links` as
/// `recursive_dependencies`.
pub(super) fn check_cycles(cx: &mut Cx, graph: &[(&str, Vec<(String, Span)>)]) {
    let index: HashMap<&str, usize> = graph
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, i))
        .collect();
    // 0 unvisited, 1 on the stack, 2 done
    let mut state = vec![0u8; graph.len()];
    for start in 0..graph.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            let edges = &graph[node].1;
            let Some((target, span)) = edges.get(next) else {
                state[node] = 2;
                stack.pop();
                continue;
            };
            top.1 += 1;
            let Some(&t) = index.get(target.as_str()) else {
                continue;
            };
            match state[t] {
                0 => {
                    state[t] = 1;
                    stack.push((t, 0));
                }
                1 => {
                    let from = stack.iter().position(|(n, _)| *n == t).unwrap_or(0);
                    let mut names: Vec<&str> =
                        stack[from..].iter().map(|(n, _)| graph[*n].0).collect();
                    names.push(graph[t].0);
                    cx.error(
                        Code::RecursiveDependencies,
                        *span,
                        &join("services", graph[node].0),
                        format!(
                            "the services depend on each other in a cycle: {}",
                            names.join(" -> ")
                        ),
                    );
                    return;
                }
                _ => {}
            }
        }
    }
}
