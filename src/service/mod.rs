//! Use cases shared by every surface (portal, widget, API, jobs): each one
//! checks what the caller may do, runs in one transaction and returns plain
//! values. Nothing here knows about HTTP.

pub mod accounts;
pub mod admin;
pub mod agent;
pub mod attachments;
pub mod automations;
pub mod bench_data;
pub mod calendar;
pub mod counts;
pub mod demo;
pub mod hc;
pub mod hc_demo;
pub mod limits;
pub mod node_cache;
pub mod passwords;
pub mod portal;
pub mod sessions;
pub mod sso;
pub mod triage;
pub mod widget;

/// `text` as lower-case ASCII letters and digits joined by single dashes,
/// accents dropped (`"Integrações & Relatórios"` → `"integracoes-relatorios"`),
/// cut near `max_len` bytes; `fallback` when nothing is left. Used for
/// Help Center slugs and the values of triage question options.
pub fn slug(text: &str, max_len: usize, fallback: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'ý' | 'ÿ' => 'y',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= max_len {
            break;
        }
    }
    let slug = out.trim_end_matches('-');
    if slug.is_empty() {
        fallback.to_owned()
    } else {
        slug.to_owned()
    }
}

/// Random bytes as lower-case hex, from the operating system's generator
/// (through UUID v4, which draws 122 random bits per value).
pub fn random_hex(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    while out.len() < bytes * 2 {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(bytes * 2);
    out
}

/// SHA-256 as lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
