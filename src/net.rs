//! What every HTTP client of bsu shares: a redirect is followed only within
//! the origin (scheme, host and port) the request was sent to. A request
//! carries a credential, in `Authorization` or in a header of the service's
//! own (Anthropic's `x-api-key`, which HTTP clients keep across hosts), and
//! often the code under review: a redirect to another origin would hand
//! both to a server nobody configured, or downgrade them to plain HTTP. Such
//! a redirect is not followed: its 3xx is the answer, and `refused` says
//! where it pointed.

use reqwest::header::{HeaderMap, LOCATION};
use reqwest::redirect::{Attempt, Policy};
use reqwest::Url;

/// Redirects followed in a row at most, within the origin.
const MAX_REDIRECTS: usize = 5;

/// The start of every HTTP client of bsu: its user agent, redirects
/// followed only within the first request's origin (up to
/// `MAX_REDIRECTS`), and no `Referer`.
pub(crate) fn client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("bsu/", env!("CARGO_PKG_VERSION")))
        .redirect(Policy::custom(follow))
        .referer(false)
}

fn follow(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    let within = attempt
        .previous()
        .first()
        .is_some_and(|first| same_origin(first, attempt.url()));
    if !within {
        attempt.stop()
    } else if attempt.previous().len() > MAX_REDIRECTS {
        attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
    } else {
        attempt.follow()
    }
}

/// The same scheme, host and port (a default port spelled or not).
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// An answer of `status` to a request for `sent` that is a redirect not
/// followed, said as the call's error: the status and the origin its
/// `Location` names. `None` for any other answer. Only the origin is
/// named: the rest of the address is the server's, and may carry what it
/// should not show.
pub(crate) fn refused(status: u16, headers: &HeaderMap, sent: &str) -> Option<String> {
    if !(300..400).contains(&status) {
        return None;
    }
    let sent = Url::parse(sent).ok()?;
    let location = headers.get(LOCATION)?.to_str().ok()?;
    let to = sent.join(location).ok()?;
    if same_origin(&sent, &to) {
        return None;
    }
    // At most 100 characters: a hostile server's name can be long.
    let origin = crate::text::one_line(&to.origin().ascii_serialization(), 100);
    Some(format!(
        "HTTP {status}: a redirect to another origin ({origin}) not followed: the request \
         carries a credential"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        let a = url("https://api.example.com/v1/x");
        assert!(same_origin(&a, &url("https://api.example.com:443/v2")));
        assert!(!same_origin(&a, &url("http://api.example.com/v1/x")));
        assert!(!same_origin(&a, &url("https://api.example.com:8443/v1/x")));
        assert!(!same_origin(&a, &url("https://evil.example/v1/x")));
        assert!(!same_origin(&a, &url("https://api.example.com.evil/v1/x")));
    }

    #[test]
    fn a_refused_redirect_names_its_origin_only() {
        let sent = "https://api.example.com/v1/messages";
        let at = |location: &str| {
            let mut h = HeaderMap::new();
            h.insert(LOCATION, location.parse().unwrap());
            h
        };
        assert_eq!(
            refused(307, &at("http://evil.example:81/steal?key=k"), sent).as_deref(),
            Some(
                "HTTP 307: a redirect to another origin (http://evil.example:81) not followed: \
                 the request carries a credential"
            )
        );
        assert_eq!(refused(307, &at("/v2/messages"), sent), None);
        assert_eq!(refused(200, &at("http://evil.example/"), sent), None);
        assert_eq!(refused(302, &HeaderMap::new(), sent), None);
        let long = format!("https://{}.example/", "a".repeat(300));
        let said = refused(301, &at(&long), sent).unwrap();
        assert!(said.contains("…)"), "{said}");
    }
}
