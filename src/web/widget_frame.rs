//! The help widget's browser side: the loader host pages embed
//! (`/widget.js`), the chat window it frames (`/widget/frame`), and their
//! script and stylesheet. The frame's JSON API and live socket are in
//! `web::widget`; docs/widget.md describes how the pieces talk.
//!
//! Every other page refuses to be framed (`X-Frame-Options: DENY`,
//! `frame-ancestors 'none'`). The frame may be framed, but only by the host
//! origin it was asked for, and only when that origin is allowed
//! (`widget_origins`): the response names it in its own
//! `Content-Security-Policy` and carries the [`Frameable`] marker, which
//! keeps the global `X-Frame-Options` away.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{
    AppState,
    config::parse_origin,
    domain::Lang,
    error::AppError,
    i18n::Tr,
    web::{Ctx, Layout},
};

/// The loader, the frame's script and the frame's stylesheet, compiled in.
const LOADER_JS: &str = include_str!("../../static/widget.js");
const FRAME_JS: &str = include_str!("../../static/widget-frame.js");
const FRAME_CSS: &str = include_str!("../../static/widget.css");

/// A response extension: this response may be framed (its own CSP says by
/// whom), so the global `X-Frame-Options: DENY` is not added.
#[derive(Clone, Copy, Debug)]
pub struct Frameable;

/// The widget's public routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(loader))
        .route("/widget/frame", get(frame))
        .route("/static/widget-frame.js", get(frame_script))
        .route("/static/widget.css", get(frame_stylesheet))
}

/// `GET /widget.js`: host pages load it from another origin, so it may be
/// read cross-origin; a short cache lets a new version reach them soon.
async fn loader() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                "cross-origin",
            ),
        ],
        LOADER_JS,
    )
        .into_response()
}

async fn frame_script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        FRAME_JS,
    )
        .into_response()
}

async fn frame_stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        FRAME_CSS,
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct FrameQuery {
    origin: Option<String>,
    lang: Option<String>,
}

#[derive(Template)]
#[template(path = "widget/frame.html")]
struct FramePage {
    lang: &'static str,
    t: Tr,
    product_name: String,
    brand_css: String,
    host_origin: String,
    support_phone: String,
    support_phone_tel: String,
    /// The interface texts and settings for the script, as JSON that is
    /// safe inside a `<script type="application/json">` element.
    config_json: String,
}

#[derive(Template)]
#[template(path = "widget/refused.html")]
struct RefusedPage {
    layout: Layout,
}

/// The texts the frame's script shows, by the names it uses.
const SCRIPT_TEXTS: &[&str] = &[
    "title",
    "close",
    "back",
    "home",
    "greeting",
    "greeting_anonymous",
    "new_ticket",
    "tickets",
    "org_link",
    "loading",
    "my_tickets",
    "no_tickets",
    "more",
    "opened_at",
    "you",
    "support",
    "composer_label",
    "composer_hint",
    "send",
    "status_changed",
    "open_in_portal",
    "triage_intro",
    "answer_label",
    "skip",
    "attach_label",
    "send_files",
    "creating",
    "created",
    "view_ticket",
    "reminded",
    "abandoned",
    "triage_closed",
    "start_again",
    "error_generic",
    "error_closed",
    "reconnecting",
    "auth_title",
    "auth_logout",
    "auth_login",
    "auth_phone",
    "popup_blocked",
    "file_too_big",
    "too_many_files",
    "remove_file",
    "no_reply",
];

/// `GET /widget/frame?origin=…&lang=…`: the chat window, framed by the host
/// page at `origin`. An origin that may not embed the widget gets a small
/// error page (which, like every other page, refuses to be framed).
async fn frame(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<FrameQuery>,
) -> Result<Response, AppError> {
    let allowed = state.config.allowed_widget_origins();
    let host_origin = query
        .origin
        .as_deref()
        .and_then(|o| parse_origin(o.trim()))
        .filter(|o| allowed.contains(o))
        // Only characters an origin needs: it goes into a header.
        .filter(|o| {
            o.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:/[]".contains(&b))
        });
    let Some(host_origin) = host_origin else {
        let page = RefusedPage {
            layout: Layout::new(&state, &ctx),
        };
        let html = page
            .render()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))?;
        return Ok((
            StatusCode::FORBIDDEN,
            [(header::CACHE_CONTROL, "no-store")],
            Html(html),
        )
            .into_response());
    };
    let lang = query
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(ctx.lang);
    let layout = Layout::new(&state, &ctx);
    let t = Tr::new(std::sync::Arc::clone(&state.catalog), lang);
    let mut texts = serde_json::Map::new();
    for name in SCRIPT_TEXTS {
        let text = t
            .t(&format!("widget_ui.{name}"))
            .replace("{platform}", &layout.platform)
            .replace("{product}", &layout.product_name);
        texts.insert((*name).to_owned(), serde_json::Value::String(text));
    }
    let config = serde_json::json!({
        "origin": host_origin,
        "lang": lang.code(),
        "product": layout.product_name,
        "phone": layout.support_phone,
        "phoneTel": layout.support_phone_tel,
        "maxFileBytes": state.config.upload_max_file_bytes,
        "maxFiles": state.config.upload_max_files,
        "texts": texts,
    });
    let page = FramePage {
        lang: lang.code(),
        t,
        product_name: layout.product_name,
        brand_css: layout.brand_css,
        host_origin: host_origin.clone(),
        support_phone: layout.support_phone,
        support_phone_tel: layout.support_phone_tel,
        config_json: script_safe_json(&config),
    };
    let html = page
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))?;
    let (ws, wss) = websocket_origins(&state.config.origin());
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' {ws} {wss}; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors {host_origin}"
    );
    let csp = HeaderValue::from_str(&csp)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("frame CSP: {e}")))?;
    let mut response = (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        Html(html),
    )
        .into_response();
    response.extensions_mut().insert(Frameable);
    Ok(response)
}

/// `ws://` and `wss://` forms of Chamado's own origin, for `connect-src`
/// (older browsers do not match web sockets with `'self'`).
fn websocket_origins(origin: &str) -> (String, String) {
    let host = origin
        .split_once("://")
        .map_or(origin, |(_, authority)| authority);
    (format!("ws://{host}"), format!("wss://{host}"))
}

/// JSON that cannot end its `<script>` element or open a comment: `<`, `>`
/// and `&` become `\u` escapes, which JSON reads back unchanged.
fn script_safe_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Adds `X-Frame-Options: DENY` to every response that does not carry the
/// [`Frameable`] marker and has none of its own.
pub async fn deny_framing(mut response: Response) -> Response {
    if response.extensions().get::<Frameable>().is_none()
        && !response.headers().contains_key(header::X_FRAME_OPTIONS)
    {
        response
            .headers_mut()
            .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_element_cannot_close_it() {
        let value = serde_json::json!({ "text": "</script><!-- & >" });
        let safe = script_safe_json(&value);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&safe).expect("valid JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn websocket_origins_keep_host_and_port() {
        assert_eq!(
            websocket_origins("http://127.0.0.1:8080"),
            (
                "ws://127.0.0.1:8080".to_owned(),
                "wss://127.0.0.1:8080".to_owned()
            )
        );
    }
}
