//! Dependency graphs: the one place that finds cycles and orders
//! dependencies first (breed dependencies in the DSL reader and the
//! resolver, cluster dependencies in the planner).
//!
//! A graph is nodes `0..n` and a function giving each node's successors:
//! the nodes it depends on. Successors outside `0..n` are ignored (a
//! dependency on something outside the graph is someone else's error).
//! Both functions walk depth first without recursion, so deep graphs
//! cannot overflow the stack, in time linear in nodes plus edges, and are
//! deterministic: roots in index order, successors in the order given.
//!
//! ```
//! use vamp_model::graph::{dependencies_first, find_cycle};
//! // 0 depends on 2; 1 depends on nothing; 2 depends on 1.
//! let deps = [vec![2], vec![], vec![1]];
//! assert_eq!(dependencies_first(3, |i| deps[i].iter().copied()), Ok(vec![1, 2, 0]));
//! // 1 now depends on 0: 0 -> 2 -> 1 -> 0.
//! let deps = [vec![2], vec![0], vec![1]];
//! assert_eq!(find_cycle(3, |i| deps[i].iter().copied()), Some(vec![0, 2, 1, 0]));
//! ```

/// Every node after the nodes it depends on; otherwise in index order (a
/// depth-first post-order from each root in turn).
///
/// # Errors
/// The first cycle found, as a path that repeats its first node at the end
/// (`[a, b, a]`; a node depending on itself is `[a, a]`).
pub fn dependencies_first<I>(
    n: usize,
    mut successors: impl FnMut(usize) -> I,
) -> Result<Vec<usize>, Vec<usize>>
where
    I: IntoIterator<Item = usize>,
{
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; n];
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<(usize, I::IntoIter)> = Vec::new();
    for root in 0..n {
        if state[root] != NEW {
            continue;
        }
        state[root] = OPEN;
        stack.push((root, successors(root).into_iter()));
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            match next.next() {
                Some(to) => match state.get(to) {
                    Some(&NEW) => {
                        state[to] = OPEN;
                        stack.push((to, successors(to).into_iter()));
                    }
                    Some(&OPEN) => {
                        let start = stack.iter().position(|(x, _)| *x == to).unwrap_or(0);
                        let mut cycle: Vec<usize> =
                            stack[start..].iter().map(|(x, _)| *x).collect();
                        cycle.push(to);
                        return Err(cycle);
                    }
                    _ => {}
                },
                None => {
                    state[node] = DONE;
                    order.push(node);
                    stack.pop();
                }
            }
        }
    }
    Ok(order)
}

/// The first cycle [`dependencies_first`] meets, as a path that repeats
/// its first node at the end; `None` when the graph has none.
pub fn find_cycle<I>(n: usize, successors: impl FnMut(usize) -> I) -> Option<Vec<usize>>
where
    I: IntoIterator<Item = usize>,
{
    dependencies_first(n, successors).err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn order(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
        dependencies_first(deps.len(), |i| deps[i].iter().copied())
    }

    #[test]
    fn dependencies_come_first_otherwise_index_order() {
        assert_eq!(order(&[vec![], vec![], vec![]]), Ok(vec![0, 1, 2]));
        assert_eq!(order(&[vec![2], vec![], vec![]]), Ok(vec![2, 0, 1]));
        assert_eq!(order(&[vec![1, 2], vec![2], vec![]]), Ok(vec![2, 1, 0]));
        assert_eq!(order(&[]), Ok(vec![]));
    }

    #[test]
    fn cycles_are_paths_back_to_their_start() {
        assert_eq!(order(&[vec![0]]), Err(vec![0, 0]));
        assert_eq!(order(&[vec![1], vec![2], vec![1]]), Err(vec![1, 2, 1]));
        assert_eq!(
            find_cycle(4, |i| [[3], [0], [1], [2]][i]),
            Some(vec![0, 3, 2, 1, 0])
        );
        assert_eq!(find_cycle(2, |i| [[1], [9]][i]), None);
    }

    #[test]
    fn deep_chains_do_not_recurse() {
        let n = 200_000;
        let chain = dependencies_first(n, |i| (i + 1 < n).then_some(i + 1));
        assert_eq!(chain.map(|o| o[0]), Ok(n - 1));
    }

    proptest! {
        /// Either every edge points backwards in the order, or the cycle
        /// returned is made of edges of the graph.
        #[test]
        fn order_or_cycle(deps in prop::collection::vec(prop::collection::vec(0usize..12, 0..3), 0..12)) {
            match order(&deps) {
                Ok(order) => {
                    prop_assert_eq!(order.len(), deps.len());
                    let mut rank = vec![usize::MAX; deps.len()];
                    for (r, &i) in order.iter().enumerate() {
                        rank[i] = r;
                    }
                    for (i, ds) in deps.iter().enumerate() {
                        for &d in ds.iter().filter(|&&d| d < deps.len()) {
                            prop_assert!(rank[d] < rank[i], "{} before {}", d, i);
                        }
                    }
                }
                Err(cycle) => {
                    prop_assert_eq!(cycle.first(), cycle.last());
                    for pair in cycle.windows(2) {
                        prop_assert!(deps[pair[0]].contains(&pair[1]));
                    }
                }
            }
        }
    }
}
