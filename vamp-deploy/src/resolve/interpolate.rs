//! Step 3b: interpolation of environment values: `$name` and `${name}`
//! references to local traits, to traits of dependencies and to values only
//! a runtime knows, computed once per variable in dependency order.

use std::borrow::Cow;

use vamp_model::artifact::Map;
use vamp_model::deployment::{DeployedService, Deployment};
use vamp_model::diagnostic::{Code, Diagnostic};
use vamp_model::interpolation::{parse, Part};
use vamp_model::span::Span;

use super::order::{locate, service_path, Flat};
use super::references::{locate_site, Sites};
use super::scopes::{merged, Var};
use super::Runtime;

pub(super) fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '/' | '[' | ']' | '.' | '{' | '}' | ':' | ';' | ',' | '$')
}

pub(super) enum Piece<'p> {
    Lit(Cow<'p, str>),
    Ref(String),
    /// A computed local value (see [`Slot`]).
    Local(Slot),
}

/// Where `$NAME` of the same service was computed.
#[derive(Clone, Copy)]
pub(super) enum Slot {
    /// `Locals::vars_memo[k]`.
    Var(usize),
    /// `Locals::constants_memo[k]`.
    Const(usize),
    /// A place holder: empty.
    Empty,
}

impl Locals<'_> {
    pub(super) fn slot(&self, slot: Slot) -> &str {
        match slot {
            Slot::Var(k) => self.vars_memo[k].as_deref().unwrap_or_default(),
            Slot::Const(k) => self.constants_memo[k].as_deref().unwrap_or_default(),
            Slot::Empty => "",
        }
    }
}

/// Joins text and kept references; literal `$` is escaped only when a
/// reference is kept (so a runtime can interpolate the text again).
pub(super) fn render(pieces: &[Piece<'_>], locals: &Locals<'_>) -> String {
    pub(super) fn piece_text<'p>(p: &'p Piece<'_>, locals: &'p Locals<'_>) -> Option<&'p str> {
        match p {
            Piece::Lit(t) => Some(t),
            Piece::Local(slot) => Some(locals.slot(*slot)),
            Piece::Ref(_) => None,
        }
    }
    let text = |p| piece_text(p, locals);
    let kept = pieces.iter().any(|p| matches!(p, Piece::Ref(_)));
    let len: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Ref(t) => t.len() + 3,
            p => text(p).map_or(0, str::len),
        })
        .sum();
    let mut out = String::with_capacity(len);
    for (i, p) in pieces.iter().enumerate() {
        match p {
            Piece::Ref(r) => {
                let braced = match pieces.get(i + 1).and_then(text) {
                    Some(t) => t.starts_with(|c: char| is_name_char(c) || c == '.'),
                    None => false,
                };
                if braced || r.contains("://") {
                    out.push_str("${");
                    out.push_str(r);
                    out.push('}');
                } else {
                    out.push('$');
                    out.push_str(r);
                }
            }
            p => {
                let t = text(p).unwrap_or_default();
                if kept && t.contains('$') {
                    out.push_str(&t.replace('$', "$$"));
                } else {
                    out.push_str(t);
                }
            }
        }
    }
    out
}

/// Computed values of one service, by index: `vars` follows the breed's
/// environment variables (None when they are, in the same order, the
/// values of the service's environment), `constants` the breed's constants
/// (None for a constant without a value).
pub(super) struct Computed {
    pub(super) vars: Option<Vec<String>>,
    pub(super) constants: Vec<Option<String>>,
}

pub(super) struct Interp<'a> {
    pub(super) name: &'a str,
    pub(super) d: &'a Deployment,
    pub(super) flat: &'a Flat<'a>,
    /// Per flat item: dependency alias -> providing cluster.
    pub(super) deps: &'a [Map<String>],
    pub(super) sites: &'a Sites<'a>,
    pub(super) runtime: &'a dyn Runtime,
    pub(super) computed: Vec<Option<Computed>>,
    /// The environment of each computed service.
    pub(super) envs: Vec<Map<String>>,
}

/// Where a value was written; resolved to a position only for errors.
#[derive(Clone, Copy)]
pub(super) enum Where {
    /// Inside the service's site (the breed's own span when inline).
    Site(Option<Span>),
    /// Exactly here.
    Exact(Span),
}

/// Where a value being interpolated was written.
pub(super) struct At<'a> {
    pub(super) d: &'a Deployment,
    pub(super) sites: &'a Sites<'a>,
    pub(super) cluster: &'a str,
    pub(super) service: &'a DeployedService,
    /// Dependency alias -> providing cluster.
    pub(super) deps: &'a Map<String>,
    pub(super) at: Where,
    /// `environment_variables` or `breed.constants`.
    pub(super) group: &'static str,
    pub(super) name: &'a str,
}

impl At<'_> {
    pub(super) fn err(&self, code: Code, message: String) -> Diagnostic {
        let spath = service_path(self.d, self.cluster, &self.service.breed.name);
        let span = match self.at {
            Where::Exact(s) => s,
            Where::Site(inner) => locate(self.sites, self.cluster, &self.service.breed.name, inner),
        };
        Diagnostic::error(code, message)
            .at(span)
            .with_path(format!("{spath}.{}.{}", self.group, self.name))
    }
}

pub(super) struct Locals<'a> {
    pub(super) vars: &'a [Var<'a>],
    /// Computed values of `vars`, by index.
    pub(super) vars_memo: Vec<Option<String>>,
    /// Computed values of the breed's constants, by index.
    pub(super) constants_memo: Vec<Option<String>>,
    pub(super) stack: Vec<&'a str>,
}

impl<'a> Interp<'a> {
    pub(super) fn provider_cluster(
        &self,
        at: &At<'_>,
        alias: &str,
        value: &str,
    ) -> Result<&'a str, Diagnostic> {
        if let Some(c) = at.deps.get(alias) {
            if let Some((k, _)) = self.d.clusters.get_key_value(c.as_str()) {
                return Ok(k);
            }
        }
        if let Some((k, _)) = self.d.clusters.get_key_value(alias) {
            return Ok(k);
        }
        Err(at.err(
            Code::UnresolvedDependencyInTraitValue,
            format!(
                "`{value}` refers to `{alias}`, which is neither a dependency of the breed `{}` nor a cluster: add it under `dependencies`",
                at.service.breed.name
            ),
        ))
    }

    pub(super) fn missing_trait(
        at: &At<'_>,
        value: &str,
        cluster: &str,
        group: &str,
        name: &str,
    ) -> Diagnostic {
        at.err(
            Code::UnresolvedDependencyInTraitValue,
            format!("`{value}` refers to `{group}.{name}` of the cluster `{cluster}`, but no breed there has it"),
        )
    }

    pub(super) fn interpolate<'v>(
        &self,
        at: &At<'v>,
        value: &str,
        locals: &mut Locals<'v>,
    ) -> Result<String, Diagnostic> {
        if !value.contains('$') {
            return Ok(value.to_owned());
        }
        let parts = parse(value).map_err(|e| {
            at.err(
                Code::Parser,
                format!("cannot read `{value}`: {}", e.message),
            )
        })?;
        let mut pieces = Vec::with_capacity(parts.len());
        for part in parts {
            let piece = match part {
                Part::Text(t) => Piece::Lit(Cow::Owned(t)),
                Part::Local(n) => Piece::Local(self.local(at, &n, value, locals)?),
                Part::Host(alias) => {
                    let c = self.provider_cluster(at, &alias, value)?;
                    match self.runtime.host(self.name, c) {
                        Some(h) => Piece::Lit(Cow::Owned(h)),
                        None => {
                            let mut r = alias;
                            r.push_str(".host");
                            Piece::Ref(r)
                        }
                    }
                }
                Part::Trait {
                    cluster: alias,
                    group,
                    name,
                } => {
                    let c = self.provider_cluster(at, &alias, value)?;
                    let members = self.flat.members(c);
                    let kept = || Piece::Ref(format!("{alias}.{group}.{name}"));
                    match group.as_str() {
                        "ports" => {
                            if !members.clone().any(|j| self.flat.items[j].1.breed.ports.contains_key(&name)) {
                                return Err(Self::missing_trait(at, value, c, &group, &name));
                            }
                            match self.runtime.port(self.name, c, &name) {
                                Some(p) => Piece::Lit(Cow::Owned(p.to_string())),
                                None => kept(),
                            }
                        }
                        "environment_variables" => {
                            let Some((j, k)) = members.clone().rev().find_map(|j| self.flat.items[j].1.breed.environment_variables.get_index_of(&name).map(|k| (j, k))) else {
                                return Err(Self::missing_trait(at, value, c, &group, &name));
                            };
                            let computed = self.computed[j].as_ref().and_then(|x| match &x.vars {
                                Some(vars) => vars.get(k),
                                None => self.envs[j].get_index(k).map(|(_, v)| v),
                            });
                            match computed {
                                Some(v) => Piece::Lit(Cow::Borrowed(v)),
                                None => {
                                    let (pc, ps) = self.flat.items[j];
                                    let vars = merged(self.d, pc, ps);
                                    match vars.iter().find(|v| v.name == name).and_then(|v| v.value) {
                                        Some(v) => Piece::Lit(Cow::Owned(v.to_owned())),
                                        None => kept(),
                                    }
                                }
                            }
                        }
                        "constants" => {
                            let Some((j, k)) = members.clone().rev().find_map(|j| self.flat.items[j].1.breed.constants.get_index_of(&name).map(|k| (j, k))) else {
                                return Err(Self::missing_trait(at, value, c, &group, &name));
                            };
                            match self.computed[j].as_ref().and_then(|x| x.constants.get(k)).and_then(Option::as_ref) {
                                Some(v) => Piece::Lit(Cow::Borrowed(v)),
                                None => match self.flat.items[j].1.breed.constants.get_index(k).and_then(|(_, t)| t.value.as_ref()) {
                                    Some(v) => Piece::Lit(Cow::Borrowed(v)),
                                    None => kept(),
                                },
                            }
                        }
                        _ => {
                            return Err(at.err(
                                Code::UnresolvedDependencyInTraitValue,
                                format!("`{value}` refers to `{alias}.{group}.{name}`: the group must be `ports`, `environment_variables` or `constants`"),
                            ))
                        }
                    }
                }
                Part::Global { scheme, path } => match self.runtime.global(&scheme, &path) {
                    Some(v) => Piece::Lit(Cow::Owned(v)),
                    None => Piece::Ref(format!("{scheme}://{path}")),
                },
            };
            pieces.push(piece);
        }
        Ok(render(&pieces, locals))
    }

    /// `$NAME`: a variable (after scopes) or constant of the same service;
    /// computed once, into `locals`.
    pub(super) fn local<'v>(
        &self,
        at: &At<'v>,
        name: &str,
        value: &str,
        locals: &mut Locals<'v>,
    ) -> Result<Slot, Diagnostic> {
        // Variables shadow constants.
        let (key, raw, slot) = match locals.vars.iter().position(|v| v.name == name) {
            Some(k) => {
                if locals.vars_memo[k].is_some() {
                    return Ok(Slot::Var(k));
                }
                let v = &locals.vars[k];
                let Some(raw) = v.value else {
                    // A place holder; reported where it is declared.
                    return Ok(Slot::Empty);
                };
                (v.name, raw, Slot::Var(k))
            }
            None => {
                let service: &'v DeployedService = at.service;
                match service.breed.constants.get_full(name) {
                    Some((k, key, tv)) => {
                        if locals.constants_memo[k].is_some() {
                            return Ok(Slot::Const(k));
                        }
                        match tv.value.as_deref() {
                            Some(raw) => (key.as_str(), raw, Slot::Const(k)),
                            None => return Err(Self::no_local(at, name, value)),
                        }
                    }
                    None => return Err(Self::no_local(at, name, value)),
                }
            }
        };
        if locals.stack.contains(&key) {
            return Err(at.err(
                Code::RecursiveDependencies,
                format!(
                    "the values of `{}` refer to each other: {} -> {name}",
                    at.service.breed.name,
                    locals.stack.join(" -> ")
                ),
            ));
        }
        locals.stack.push(key);
        let out = self.interpolate(at, raw, locals);
        locals.stack.pop();
        let out = out?;
        match slot {
            Slot::Var(k) => locals.vars_memo[k] = Some(out),
            Slot::Const(k) => locals.constants_memo[k] = Some(out),
            Slot::Empty => {}
        }
        Ok(slot)
    }

    pub(super) fn no_local(at: &At<'_>, name: &str, value: &str) -> Diagnostic {
        at.err(
            Code::UnresolvedEnvironmentVariable,
            format!("`{value}` refers to `${name}`, but the breed `{}` has no environment variable or constant `{name}`", at.service.breed.name),
        )
    }

    /// The environment of service `i` (into `envs[i]`): place holders
    /// checked, values interpolated.
    pub(super) fn compute(&mut self, i: usize) -> Result<(), Diagnostic> {
        let (cname, s) = self.flat.items[i];
        let vars = merged(self.d, cname, s);
        for v in &vars {
            if v.value.is_none() {
                let site = self.sites.get(cname, &s.breed.name);
                return Err(Diagnostic::error(
                    Code::MissingEnvironmentVariable,
                    format!(
                        "the breed `{}` leaves `{}` to be filled (`~`), but neither `{cname}.{}` at blueprint level nor the service sets it: give it a value",
                        s.breed.name, v.name, v.name
                    ),
                )
                .at(locate_site(site.as_ref(), v.span))
                .with_path(format!(
                    "{}.breed.environment_variables.{}",
                    service_path(self.d, cname, &s.breed.name),
                    v.name
                )));
            }
        }
        let mut locals = Locals {
            vars: &vars,
            vars_memo: vec![None; vars.len()],
            constants_memo: vec![None; s.breed.constants.len()],
            stack: Vec::new(),
        };
        let (d, sites, deps) = (self.d, self.sites, &self.deps[i]);
        let at = |at: Where, group: &'static str, name| At {
            d,
            sites,
            cluster: cname,
            service: s,
            deps,
            at,
            group,
            name,
        };
        for v in &vars {
            let place = match (v.from_breed, v.span) {
                (false, Some(span)) => Where::Exact(span),
                (true, inner) => Where::Site(inner),
                (false, None) => Where::Site(None),
            };
            let at = at(place, "environment_variables", v.name);
            self.local(&at, v.name, v.value.unwrap_or_default(), &mut locals)?;
        }
        for (k, (key, tv)) in s.breed.constants.iter().enumerate() {
            let Some(raw) = &tv.value else { continue };
            let at = at(Where::Site(tv.span), "breed.constants", key);
            if vars.iter().any(|v| v.name == key) {
                let value = self.interpolate(&at, raw, &mut locals)?;
                locals.constants_memo[k] = Some(value);
            } else {
                self.local(&at, key, raw, &mut locals)?;
            }
        }
        let Locals {
            vars_memo,
            constants_memo,
            ..
        } = locals;
        // Without aliases the environment holds the variables in breed
        // order, and dependents read them from there.
        let aliased = vars.iter().any(|v| v.alias.is_some());
        let kept = aliased.then(|| {
            vars_memo
                .iter()
                .map(|v| v.clone().unwrap_or_default())
                .collect::<Vec<_>>()
        });
        let mut env = Map::with_capacity(vars.len());
        for (v, value) in vars.iter().zip(vars_memo) {
            env.insert(
                v.alias.unwrap_or(v.name).to_owned(),
                value.unwrap_or_default(),
            );
        }
        self.envs[i] = env;
        self.computed[i] = Some(Computed {
            vars: kept,
            constants: constants_memo,
        });
        Ok(())
    }
}
