//! Route weights: how the routes of a gateway share its traffic.
//!
//! One rule (`dsl-reference.md` §4.4 rule 2), used by the router when it
//! compiles a gateway and by the resolver when it creates a deployment's
//! gateways: the routes without a written weight share what the written
//! weights leave (`free = 100 − sum`), each gets `floor(free / n)` and the
//! last of them the remainder; the result must total 0 or 100. Routes whose
//! weights are all written as 0% stay at 0% (such a gateway routes nothing
//! by weight).
//!
//! ```
//! use vamp_model::weights::fill;
//! assert_eq!(fill(&[None, None, None]), Ok(vec![33, 33, 34]));
//! assert_eq!(fill(&[Some(0), Some(0)]), Ok(vec![0, 0]));
//! ```

/// The effective weights of routes whose written weights are `written`
/// (in route order; `None` for a route without a weight).
///
/// # Errors
/// `Err(total)`, the total in percent, when the written weights exceed 100
/// or the result does not total 0 or 100 (the `gateway_route_weight`
/// situation).
///
/// ```
/// use vamp_model::weights::fill;
/// assert_eq!(fill(&[Some(90), None]), Ok(vec![90, 10]));
/// assert_eq!(fill(&[Some(100), None]), Ok(vec![100, 0]));
/// assert_eq!(fill(&[Some(40), None, None, Some(20)]), Ok(vec![40, 20, 20, 20]));
/// assert_eq!(fill(&[Some(50), Some(20)]), Err(70));
/// assert_eq!(fill(&[Some(80), Some(80), None]), Err(160));
/// ```
pub fn fill(written: &[Option<u8>]) -> Result<Vec<u8>, u32> {
    let sum: u32 = written.iter().flatten().map(|&w| u32::from(w)).sum();
    if sum > 100 {
        return Err(sum);
    }
    let unweighted = written.iter().filter(|w| w.is_none()).count() as u32;
    let free = 100 - sum;
    let each = free.checked_div(unweighted).unwrap_or(0);
    let mut seen = 0;
    let out: Vec<u8> = written
        .iter()
        .map(|w| match w {
            Some(w) => *w,
            None => {
                seen += 1;
                let share = if seen == unweighted {
                    free - each * (unweighted - 1)
                } else {
                    each
                };
                // `share <= free <= 100`.
                share as u8
            }
        })
        .collect();
    let total: u32 = out.iter().map(|&w| u32::from(w)).sum();
    if total == 0 || total == 100 {
        Ok(out)
    } else {
        Err(total)
    }
}

#[cfg(test)]
mod tests {
    use super::fill;
    use proptest::prelude::*;

    #[test]
    fn all_zero_stays_zero() {
        assert_eq!(fill(&[Some(0), Some(0)]), Ok(vec![0, 0]));
        assert_eq!(fill(&[Some(0)]), Ok(vec![0]));
        assert_eq!(fill(&[]), Ok(vec![]));
        assert_eq!(fill(&[Some(0), None]), Ok(vec![0, 100]));
    }

    proptest! {
        /// Effective weights total 100 (or 0 when every route says 0%), keep
        /// the written ones, and spread the free share with the remainder
        /// last.
        #[test]
        fn weights_sum_to_100(written in prop::collection::vec(prop::option::of(0u8..=100), 1..12)) {
            let sum: u32 = written.iter().flatten().map(|&w| u32::from(w)).sum();
            let unweighted = written.iter().filter(|w| w.is_none()).count();
            match fill(&written) {
                Ok(w) => {
                    let total: u32 = w.iter().map(|&x| u32::from(x)).sum();
                    prop_assert!(total == 100 || (total == 0 && sum == 0 && unweighted == 0));
                    for (e, o) in w.iter().zip(&written) {
                        if let Some(o) = o { prop_assert_eq!(e, o); }
                    }
                    let shares: Vec<u8> = w.iter().zip(&written).filter(|(_, o)| o.is_none()).map(|(e, _)| *e).collect();
                    if let Some((last, rest)) = shares.split_last() {
                        prop_assert!(rest.iter().all(|&s| s == shares[0]));
                        prop_assert!(*last >= shares[0] && u32::from(*last - shares[0]) < shares.len() as u32);
                    }
                }
                Err(total) => prop_assert!(sum > 100 || (unweighted == 0 && sum != 100 && sum != 0), "{}", total),
            }
        }
    }
}
