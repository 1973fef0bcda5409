//! The tests behind the judge: Mann–Whitney U (exact and normal), the exact
//! binomial tail, Fisher's exact test and the pooled two-proportion z-test.
//! Every function returns a one-sided p-value in `[0, 1]` and never panics.

use std::f64::consts::SQRT_2;

/// Both sides at most this many samples together, without ties: the exact
/// distribution of U (the Gaussian binomial coefficient, in `i128`: its
/// largest coefficient, below C(100, 50) ≈ 1.0e29, fits).
pub(crate) const EXACT_MAX_TOTAL: usize = 100;

/// P(Z > z) for a standard normal Z.
pub(crate) fn normal_sf(z: f64) -> f64 {
    clamp_p(0.5 * libm::erfc(z / SQRT_2))
}

fn clamp_p(p: f64) -> f64 {
    if p.is_nan() {
        1.0
    } else {
        p.clamp(0.0, 1.0)
    }
}

fn ln_choose(n: u64, k: u64) -> f64 {
    let f = |x: u64| libm::lgamma(x as f64 + 1.0);
    f(n) - f(k) - f(n - k)
}

/// How a Mann–Whitney p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MannWhitney {
    /// U of the candidate: pairs where it is slower, ties counting one half.
    pub(crate) u: f64,
    /// One-sided p-value (candidate slower).
    pub(crate) p: f64,
    /// True for the exact distribution, false for the normal approximation.
    pub(crate) exact: bool,
}

/// One-sided Mann–Whitney U test that `candidate` tends to larger values
/// than `stable`. Both slices are sorted keys (any totally ordered `u64`).
pub(crate) fn mann_whitney(stable: &[u64], candidate: &[u64]) -> MannWhitney {
    let (n, m) = (stable.len(), candidate.len());
    if n == 0 || m == 0 {
        return MannWhitney {
            u: 0.0,
            p: 1.0,
            exact: true,
        };
    }
    // Merge the sorted sides: midranks of tie groups, the candidate's rank
    // sum and the tie term sum(t^3 - t).
    let (mut i, mut j) = (0, 0);
    let mut below = 0f64; // values ranked so far
    let mut rank_sum = 0f64;
    let mut ties = 0f64;
    while i < n || j < m {
        let v = match (stable.get(i), candidate.get(j)) {
            (Some(a), Some(b)) => (*a).min(*b),
            (Some(a), None) => *a,
            (None, Some(b)) => *b,
            (None, None) => break,
        };
        let i0 = i;
        while stable.get(i) == Some(&v) {
            i += 1;
        }
        let j0 = j;
        while candidate.get(j) == Some(&v) {
            j += 1;
        }
        let (a, b) = ((i - i0) as f64, (j - j0) as f64);
        let t = a + b;
        rank_sum += b * (below + (t + 1.0) / 2.0);
        ties += t * t * t - t;
        below += t;
    }
    let (nf, mf) = (n as f64, m as f64);
    let u = rank_sum - mf * (mf + 1.0) / 2.0;
    if ties == 0.0 && n + m <= EXACT_MAX_TOTAL {
        // Without ties U is a whole number.
        return MannWhitney {
            u,
            p: exact_upper_tail(n, m, u.round() as usize),
            exact: true,
        };
    }
    let total = nf + mf;
    let var = nf * mf / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)));
    let p = if var > 0.0 {
        // continuity correction: half a step towards the null
        normal_sf((u - nf * mf / 2.0 - 0.5) / var.sqrt())
    } else {
        // every value tied: no evidence either way
        1.0
    };
    MannWhitney { u, p, exact: false }
}

/// P(U >= u) without ties: the coefficients of the Gaussian binomial
/// `[n+m choose m]_q` count the arrangements with each U.
fn exact_upper_tail(n: usize, m: usize, u: usize) -> f64 {
    let (small, large) = (n.min(m), n.max(m));
    let mut c = vec![0i128; small * large + small + 1];
    c[0] = 1;
    let mut degree = 0;
    for i in 1..=small {
        // times (1 - q^(large + i)), then divided (exactly) by (1 - q^i)
        let step = large + i;
        let top = degree + step;
        for k in (step..=top).rev() {
            c[k] -= c[k - step];
        }
        for k in i..=top {
            c[k] += c[k - i];
        }
        degree = top - i;
    }
    let all: i128 = c[..=degree].iter().sum();
    let tail: i128 = c.get(u..=degree).map_or(0, |t| t.iter().sum());
    clamp_p(tail as f64 / all as f64)
}

/// Sums a run of probabilities `first, first*r(first), ...` for `k` from
/// `from` to `to` (inclusive), stopping once the terms are negligible.
fn tail_sum(from: u64, to: u64, first_ln: f64, ratio: impl Fn(u64) -> f64) -> f64 {
    let mut term = first_ln.exp();
    let mut sum = 0.0;
    let mut k = from;
    loop {
        sum += term;
        if k >= to || (term < sum * 1e-17 && ratio(k) < 1.0) {
            break;
        }
        term *= ratio(k);
        k += 1;
    }
    clamp_p(sum)
}

/// P(X >= x) for X ~ Binomial(n, p0), exactly.
pub(crate) fn binomial_sf(x: u64, n: u64, p0: f64) -> f64 {
    if x == 0 {
        return 1.0;
    }
    if x > n || p0 <= 0.0 {
        return 0.0;
    }
    if p0 >= 1.0 {
        return 1.0;
    }
    let odds = p0 / (1.0 - p0);
    let first = ln_choose(n, x) + x as f64 * p0.ln() + (n - x) as f64 * (-p0).ln_1p();
    tail_sum(x, n, first, |k| (n - k) as f64 / (k + 1) as f64 * odds)
}

/// A 2x2 table: errors and requests on each side.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub(crate) stable_errors: u64,
    pub(crate) stable_n: u64,
    pub(crate) candidate_errors: u64,
    pub(crate) candidate_n: u64,
}

impl Table {
    /// The smallest expected cell count under equal rates.
    pub(crate) fn min_expected(&self) -> f64 {
        let total = (self.stable_n + self.candidate_n) as f64;
        let errors = (self.stable_errors + self.candidate_errors) as f64;
        let sides = self.stable_n.min(self.candidate_n) as f64;
        let cells = errors.min(total - errors);
        if total == 0.0 {
            0.0
        } else {
            sides * cells / total
        }
    }
}

/// Fisher's exact test, one-sided: P(candidate errors >= observed) given
/// the margins (hypergeometric).
pub(crate) fn fisher_greater(t: Table) -> f64 {
    let total = t.stable_n + t.candidate_n;
    let errors = t.stable_errors + t.candidate_errors;
    let (a, nc) = (t.candidate_errors, t.candidate_n);
    if errors == 0 || nc == 0 || t.stable_n == 0 {
        return 1.0;
    }
    let hi = errors.min(nc);
    let ok = total - errors;
    let first = ln_choose(errors, a) + ln_choose(ok, nc - a) - ln_choose(total, nc);
    tail_sum(a, hi, first, |k| {
        (errors - k) as f64 * (nc - k) as f64 / ((k + 1) as f64 * (ok + k + 1 - nc) as f64)
    })
}

/// Pooled two-proportion z-test, one-sided (candidate rate higher).
pub(crate) fn two_proportion_greater(t: Table) -> f64 {
    let (ns, nc) = (t.stable_n as f64, t.candidate_n as f64);
    if ns == 0.0 || nc == 0.0 {
        return 1.0;
    }
    let pooled = (t.stable_errors + t.candidate_errors) as f64 / (ns + nc);
    let se = (pooled * (1.0 - pooled) * (1.0 / ns + 1.0 / nc)).sqrt();
    if se > 0.0 {
        normal_sf((t.candidate_errors as f64 / nc - t.stable_errors as f64 / ns) / se)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn normal_tail_matches_tables() {
        assert!(close(normal_sf(0.0), 0.5, 1e-12));
        assert!(close(normal_sf(1.959_963_985), 0.025, 1e-9));
        assert!(close(normal_sf(-1.644_853_627), 0.95, 1e-9));
        assert_eq!(normal_sf(f64::NAN), 1.0);
    }

    #[test]
    fn exact_u_distribution_matches_enumeration() {
        // n = m = 3: 20 arrangements; U = 9 once, U >= 8 twice, U >= 7 four times.
        assert!(close(exact_upper_tail(3, 3, 9), 1.0 / 20.0, 1e-15));
        assert!(close(exact_upper_tail(3, 3, 8), 2.0 / 20.0, 1e-15));
        assert!(close(exact_upper_tail(3, 3, 7), 4.0 / 20.0, 1e-15));
        assert_eq!(exact_upper_tail(3, 3, 0), 1.0);
        assert_eq!(exact_upper_tail(2, 5, 11), 0.0);
        // the largest exact case stays a probability
        let p = exact_upper_tail(50, 50, 1250);
        assert!(p > 0.45 && p < 0.55, "{p}");
        // against the normal approximation far from the tails
        let exact = exact_upper_tail(40, 60, 1400);
        let z = (1400.0 - 1200.0 - 0.5) / (40.0f64 * 60.0 * 101.0 / 12.0).sqrt();
        assert!(
            close(exact, normal_sf(z), 0.005),
            "{exact} vs {}",
            normal_sf(z)
        );
    }

    #[test]
    fn mann_whitney_ranks_ties_by_midrank() {
        // stable 1 2 3, candidate 2 4: U = 0.5 (2 ties 2) + 1 + 3 = ... candidate 2
        // beats 1 and ties 2 -> 1.5; candidate 4 beats all three -> 3.
        let r = mann_whitney(&[1, 2, 3], &[2, 4]);
        assert_eq!(r.u, 4.5);
        assert!(!r.exact);
        let all_same = mann_whitney(&[5; 30], &[5; 30]);
        assert_eq!((all_same.u, all_same.p), (450.0, 1.0));
        let separated = mann_whitney(&[1, 2, 3, 4], &[5, 6, 7, 8]);
        assert!(separated.exact);
        assert!(close(separated.p, 1.0 / 70.0, 1e-15));
    }

    #[test]
    fn binomial_tail_matches_direct_sums() {
        // P(X >= 3 | n = 100, p = 0.01) = 1 - (P0 + P1 + P2)
        let p0 = 0.99f64.powi(100);
        let p1 = 100.0 * 0.01 * 0.99f64.powi(99);
        let p2 = 4950.0 * 0.0001 * 0.99f64.powi(98);
        assert!(close(binomial_sf(3, 100, 0.01), 1.0 - p0 - p1 - p2, 1e-12));
        assert_eq!(binomial_sf(0, 10, 0.5), 1.0);
        assert_eq!(binomial_sf(1, 10, 0.0), 0.0);
        assert!(close(binomial_sf(10, 10, 0.5), 1.0 / 1024.0, 1e-15));
        assert!(binomial_sf(5_000, 10_000, 0.5) > 0.49);
    }

    #[test]
    fn fisher_matches_a_hand_computed_table() {
        // 3 of 3 candidate errors, 0 of 3 stable: 1 / C(6, 3)
        let t = Table {
            stable_errors: 0,
            stable_n: 3,
            candidate_errors: 3,
            candidate_n: 3,
        };
        assert!(close(fisher_greater(t), 0.05, 1e-12));
        let none = Table {
            candidate_errors: 0,
            ..t
        };
        assert_eq!(fisher_greater(none), 1.0);
        let reversed = Table {
            stable_errors: 3,
            candidate_errors: 0,
            ..t
        };
        assert!(close(fisher_greater(reversed), 1.0, 1e-12));
    }

    #[test]
    fn two_proportion_z_is_one_sided() {
        let t = Table {
            stable_errors: 10,
            stable_n: 1000,
            candidate_errors: 30,
            candidate_n: 1000,
        };
        assert!(two_proportion_greater(t) < 0.001);
        let lower = Table {
            stable_errors: 30,
            candidate_errors: 10,
            ..t
        };
        assert!(two_proportion_greater(lower) > 0.99);
        assert!(t.min_expected() >= 5.0);
    }
}
