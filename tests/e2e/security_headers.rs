//! The Content-Security-Policy the browser receives forbids inline scripts;
//! `run` also fails any test whose pages log a CSP violation.

use crate::support::run;

/// `{directive: [sources]}` of a CSP header.
fn parse_csp(header: &str) -> Vec<(String, Vec<String>)> {
    header
        .split(';')
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.map(str::to_owned).collect()))
        })
        .collect()
}

#[tokio::test]
async fn pages_send_a_content_security_policy_that_forbids_inline_scripts() {
    run("csp", |b| async move {
        for path in ["/login", "/demo/host", "/access/jwt?jwt=garbage"] {
            let response = b.goto_response(path).await;
            let header = response
                .header("content-security-policy")
                .unwrap_or_else(|| panic!("{path} sends no Content-Security-Policy"));
            let csp = parse_csp(header);
            let sources = |name: &str| csp.iter().find(|(n, _)| n == name).map(|(_, s)| s);
            let scripts = sources("script-src")
                .or_else(|| sources("default-src"))
                .unwrap_or_else(|| panic!("{path}: the CSP does not restrict scripts: {header}"));
            assert!(
                !scripts.iter().any(|s| s == "'unsafe-inline'"),
                "{path}: scripts allow 'unsafe-inline': {header}"
            );
            if let Some(elements) = sources("script-src-elem") {
                assert!(
                    !elements.iter().any(|s| s == "'unsafe-inline'"),
                    "{path}: script-src-elem allows 'unsafe-inline': {header}"
                );
            }
        }
    })
    .await;
}
