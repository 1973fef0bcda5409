//! FNV-1a (64 bits): the one stable hash of the workspace, the same on every
//! platform and in every process. Drivers name instances and fingerprint
//! specs with it; the router derives route ids and sticky values from it.
//!
//! ```
//! use vamp_model::hash::{fnv1a, fnv1a_extend, hex48, FNV_OFFSET};
//! assert_eq!(fnv1a(b""), FNV_OFFSET);
//! assert_eq!(fnv1a(b"ab"), fnv1a_extend(fnv1a(b"a"), b"b"));
//! assert_eq!(hex48(fnv1a(b"a")), "dc4c8601ec8c");
//! ```

/// The FNV-1a offset basis: the hash of no bytes.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// The FNV-1a prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The FNV-1a hash of `bytes`.
#[inline]
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_extend(FNV_OFFSET, bytes)
}

/// Continues the hash `h` (of what came before) over `bytes`:
/// `fnv1a_extend(fnv1a(a), b) == fnv1a(a ++ b)`.
#[inline]
pub fn fnv1a_extend(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// The low 48 bits of `h` as 12 lower-case hex digits (fingerprints and
/// name suffixes).
pub fn hex48(h: u64) -> String {
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // The FNV-1a 64 test vectors of the reference implementation.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(hex48(u64::MAX), "ffffffffffff");
        assert_eq!(hex48(0), "000000000000");
    }
}
