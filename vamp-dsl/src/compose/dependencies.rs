//! `depends_on` and `links` as breed dependencies, and the cycle check.

use std::collections::HashMap;

use vamp_model::graph::find_cycle;
use vamp_model::{Breed, Code, Map, OrRef, Reference, Span};

use super::{map_of, scalar_text, some_seq_of, Cx};
use crate::read::ctx::{index, join};
use crate::yaml::Node;

/// The dependencies of one service as they are read: the breed
/// dependencies (alias to breed reference) and the services depended on,
/// for the cycle check.
pub(super) struct Dependencies<'b> {
    /// Service name to its breed name, for every service of the file.
    pub(super) breeds: &'b HashMap<&'b str, &'b str>,
    /// Alias to the breed it refers to.
    pub(super) breed_deps: Map<OrRef<Breed>>,
    /// The services depended on, where each is named.
    pub(super) services: Vec<(String, Span)>,
}

impl Dependencies<'_> {
    fn add(&mut self, cx: &mut Cx, alias: &str, target: &str, span: Span, path: &str) {
        let Some(breed) = self.breeds.get(target) else {
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
        self.services.push((target.to_owned(), span));
        if self.breed_deps.contains_key(alias) {
            return;
        }
        self.breed_deps.insert(
            alias.to_owned(),
            OrRef::Reference(Reference {
                name: (*breed).to_owned(),
                span: Some(span),
            }),
        );
    }

    /// `depends_on`: a list of service names, or a map of services to
    /// conditions (which Vamp does not need).
    pub(super) fn read_depends_on(&mut self, cx: &mut Cx, node: &Node, path: &str) {
        if node.is_null() {
            return;
        }
        if let Some(items) = node.as_seq() {
            for (i, item) in items.iter().enumerate() {
                let p = index(path, i);
                if let Some(name) = scalar_text(cx, item, &p) {
                    self.add(cx, name, name, item.span, &p);
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
            self.add(cx, &e.key, &e.key, e.key_span, &p);
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

    /// `links`: `SERVICE` or `SERVICE:ALIAS`.
    pub(super) fn read_links(&mut self, cx: &mut Cx, node: &Node, path: &str) {
        let Some(items) = some_seq_of(cx, node, path, "a list of `SERVICE` or `SERVICE:ALIAS`")
        else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let p = index(path, i);
            if let Some(text) = scalar_text(cx, item, &p) {
                let (target, alias) = text.split_once(':').unwrap_or((text, text));
                self.add(cx, alias, target, item.span, &p);
            }
        }
    }
}

/// Reports the first cycle of `depends_on`/`links` as
/// `recursive_dependencies`.
pub(super) fn check_cycles(cx: &mut Cx, graph: &[(&str, Vec<(String, Span)>)]) {
    let Some((cycle, span)) = first_cycle(graph) else {
        return;
    };
    let names: Vec<&str> = cycle.iter().map(|&n| graph[n].0).collect();
    let from = cycle[cycle.len() - 2];
    cx.error(
        Code::RecursiveDependencies,
        span,
        &join("services", graph[from].0),
        format!(
            "the services depend on each other in a cycle: {}",
            names.join(" -> ")
        ),
    );
}

/// The first cycle of the graph (nodes in order, the first repeated at the
/// end) by [`find_cycle`], and where its closing edge is written. Edges to
/// unknown nodes are skipped.
fn first_cycle(graph: &[(&str, Vec<(String, Span)>)]) -> Option<(Vec<usize>, Span)> {
    let index: HashMap<&str, usize> = graph
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, i))
        .collect();
    let target = |t: &str| index.get(t).copied().unwrap_or(usize::MAX);
    let cycle = find_cycle(graph.len(), |i| graph[i].1.iter().map(|(t, _)| target(t)))?;
    let (from, to) = (cycle[cycle.len() - 2], cycle[cycle.len() - 1]);
    let span = graph[from].1.iter().find(|(t, _)| target(t) == to)?.1;
    Some((cycle, span))
}
