//! Step 4: filling unwritten route weights.

use vamp_model::artifact::{Map, OrRef, Route};

/// Fills unwritten weights: the unweighted routes share what the written
/// weights leave, rounded down, the remainder on the last one. When no
/// route has a weight left to take and the written weights total 0, the
/// routes share 100 the same way. Returns a message when the weights cannot
/// total 100.
pub fn fill_weights(routes: &mut Map<OrRef<Route>>) -> Result<(), String> {
    let inline: Vec<&mut Route> = routes
        .values_mut()
        .filter_map(|r| match r {
            OrRef::Inline(r) => Some(r),
            OrRef::Reference(_) => None,
        })
        .collect();
    if inline.is_empty() {
        return Ok(());
    }
    let written: u32 = inline.iter().filter_map(|r| r.weight).map(u32::from).sum();
    if written > 100 {
        return Err(format!(
            "the written weights total {written}%, more than 100%"
        ));
    }
    let free = 100 - written;
    let mut open: Vec<&mut Route> = inline.into_iter().filter(|r| r.weight.is_none()).collect();
    if open.is_empty() {
        if written == 100 {
            return Ok(());
        }
        if written == 0 {
            for r in routes.values_mut() {
                if let OrRef::Inline(r) = r {
                    r.weight = None;
                }
            }
            return fill_weights(routes);
        }
        return Err(format!("the weights total {written}%: they must total 100% (or leave some routes without a weight to take the rest)"));
    }
    let n = u32::try_from(open.len()).unwrap_or(u32::MAX);
    let share = free / n;
    let last = free - share * (n - 1);
    let count = open.len();
    for (i, r) in open.iter_mut().enumerate() {
        let w = if i + 1 == count { last } else { share };
        r.weight = Some(u8::try_from(w).unwrap_or(100));
    }
    Ok(())
}
