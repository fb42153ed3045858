//! Common prefixes of texts given whole or in two parts (a prompt's shared
//! part and its own), compared without joining them: what a provider's
//! prompt cache can serve once. Pure, a leaf.

/// Bytes of the longest prefix `a` and `b` share, at a char boundary of `a`.
#[cfg(test)]
pub(crate) fn common_prefix_len(a: &str, b: &str) -> usize {
    common_prefix_len_parts([a, ""], [b, ""])
}

/// Bytes of the longest prefix two texts given in two parts share (each
/// text is its parts joined), at a char boundary of `a`.
pub(crate) fn common_prefix_len_parts(a: [&str; 2], b: [&str; 2]) -> usize {
    let (n, _) = compare_parts(a, b);
    let (part, at) = if n <= a[0].len() {
        (a[0], n)
    } else {
        (a[1], n - a[0].len())
    };
    let floor = (0..=at)
        .rev()
        .find(|i| part.is_char_boundary(*i))
        .unwrap_or(0);
    n - (at - floor)
}

/// Two texts given in two parts each (each text is its parts joined): the
/// bytes they share at the start, and how they order.
pub(crate) fn compare_parts(a: [&str; 2], b: [&str; 2]) -> (usize, std::cmp::Ordering) {
    let (mut ai, mut bi) = (0, 0);
    let (mut x, mut y) = (a[0].as_bytes(), b[0].as_bytes());
    let mut same = 0;
    loop {
        while x.is_empty() && ai + 1 < a.len() {
            ai += 1;
            x = a[ai].as_bytes();
        }
        while y.is_empty() && bi + 1 < b.len() {
            bi += 1;
            y = b[bi].as_bytes();
        }
        if x.is_empty() || y.is_empty() {
            return (same, (!x.is_empty()).cmp(&!y.is_empty()));
        }
        let n = x.len().min(y.len());
        let k = same_bytes(&x[..n], &y[..n]);
        same += k;
        if k < n {
            return (same, x[k].cmp(&y[k]));
        }
        x = &x[n..];
        y = &y[n..];
    }
}

/// Bytes at the start of two equally long slices that are equal.
fn same_bytes(a: &[u8], b: &[u8]) -> usize {
    // Whole chunks first (a slice comparison is a memcmp), then bytes.
    const CHUNK: usize = 4096;
    let len = a.len();
    let mut n = 0;
    while n + CHUNK <= len && a[n..n + CHUNK] == b[n..n + CHUNK] {
        n += CHUNK;
    }
    n + a[n..]
        .iter()
        .zip(&b[n..])
        .position(|(x, y)| x != y)
        .unwrap_or(len - n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefixes_stop_at_a_char_boundary() {
        assert_eq!(common_prefix_len("abcdef-x", "abcdef-y"), 7);
        assert_eq!(common_prefix_len("", "abc"), 0);
        assert_eq!(common_prefix_len("aé", "aè"), 1);
        assert_eq!(common_prefix_len_parts(["ab", "cé"], ["abc", "è"]), 3);
        assert_eq!(
            compare_parts(["ab", ""], ["a", "b"]),
            (2, std::cmp::Ordering::Equal)
        );
        assert_eq!(
            compare_parts(["a", "b"], ["ab", "c"]),
            (2, std::cmp::Ordering::Less)
        );
    }
}
