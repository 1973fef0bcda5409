//! Step 4: filling unwritten route weights.

use vamp_model::artifact::{Map, OrRef, Route};

/// Fills unwritten weights of the inline routes by the one rule,
/// [`vamp_model::weights::fill`]: the unweighted routes share what the
/// written weights leave, rounded down, the remainder on the last one; the
/// result totals 100, or 0 when every route is written as 0% (such a
/// gateway routes nothing by weight). Returns a message when the weights
/// cannot total 100.
pub fn fill_weights(routes: &mut Map<OrRef<Route>>) -> Result<(), String> {
    let mut inline: Vec<&mut Route> = routes
        .values_mut()
        .filter_map(|r| match r {
            OrRef::Inline(r) => Some(r),
            OrRef::Reference(_) => None,
        })
        .collect();
    let written: Vec<Option<u8>> = inline.iter().map(|r| r.weight).collect();
    match vamp_model::weights::fill(&written) {
        Ok(filled) => {
            for (r, w) in inline.iter_mut().zip(filled) {
                r.weight = Some(w);
            }
            Ok(())
        }
        Err(total) if total > 100 => Err(format!(
            "the written weights total {total}%, more than 100%"
        )),
        Err(total) => Err(format!("the weights total {total}%: they must total 100% (or leave some routes without a weight to take the rest)")),
    }
}
