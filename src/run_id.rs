//! Random identifiers (run ids, temporary file names) without an RNG
//! dependency: std's `RandomState` is seeded from the OS per instance.

use std::hash::{BuildHasher, Hasher};

/// `n` random lowercase hex characters.
pub(crate) fn random_hex(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(n);
    out
}

/// A new run id: 12 hex characters.
pub(crate) fn new_run_id() -> String {
    random_hex(12)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_hex_and_distinct() {
        let a = super::new_run_id();
        let b = super::new_run_id();
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
