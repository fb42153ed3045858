//! Token counts read by key (`Backend::token_counts_of`), on both backends.

use super::each;

#[test]
fn token_counts_are_read_by_key_within_their_project() {
    each(|s| {
        s.with(|c| {
            let counts: Vec<(String, u64)> = (0..4).map(|i| (format!("k{i}"), i)).collect();
            c.token_counts_put("/p", &counts, 1, 10)?;
            c.token_counts_put("/q", &[("k9".into(), 9)], 1, 10)?;
            let keys = ["k3", "k0", "nope", "k9"].map(String::from);
            let mut found = c.token_counts_of("/p", &keys)?;
            found.sort();
            assert_eq!(found, [("k0".to_string(), 0), ("k3".to_string(), 3)]);
            assert!(c.token_counts_of("/p", &[])?.is_empty());
            assert_eq!(c.token_counts_of("/q", &keys)?, [("k9".to_string(), 9)]);
            Ok(())
        })
        .unwrap();
    });
}
