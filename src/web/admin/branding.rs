//! Branding: product name, support phone, the header's colour and the host
//! platform's name; and the stylesheet that paints the colour.
//!
//! Saving updates this node at once; the other nodes show it after their
//! next branding refresh (`service::admin::spawn_branding_refresh`).

use askama::Template;
use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::{field_errors, notice, see_other, unprocessable};
use crate::{
    AppState,
    error::AppError,
    service::admin::{self as admin_service, AdminError, Branding, FieldErrors},
    web::{Admin, Ctx, Layout, render},
};

const NOTICES: [(&str, &str); 1] = [("saved", "admin.done.branding_saved")];

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BrandingForm {
    product_name: String,
    support_phone: String,
    primary_color: String,
    host_platform_name: String,
}

#[derive(Template)]
#[template(path = "admin/branding.html")]
pub struct BrandingPage {
    layout: Layout,
    section: &'static str,
    form: Branding,
    errors: FieldErrors,
    notice: Option<&'static str>,
}
field_errors!(BrandingPage);

fn branding_page(
    state: &AppState,
    ctx: &Ctx,
    form: Branding,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    render(&BrandingPage {
        layout: Layout::new(state, ctx),
        section: "branding",
        form,
        errors,
        notice,
    })
}

/// `GET /admin/branding`: the branding form.
pub async fn show_branding(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Query(query): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let current = admin_service::current_branding(&state);
    let done = notice(query.done.as_deref(), &NOTICES);
    branding_page(&state, &ctx, current, Vec::new(), done)
}

/// `POST /admin/branding`: saves the branding.
pub async fn update_branding(
    State(state): State<AppState>,
    Admin(ctx, _session): Admin,
    Form(form): Form<BrandingForm>,
) -> Result<Response, AppError> {
    let input = Branding {
        product_name: form.product_name,
        support_phone: form.support_phone,
        primary_color: form.primary_color,
        host_platform_name: form.host_platform_name,
    };
    match admin_service::save_branding(&state, &input).await {
        Ok(()) => Ok(see_other("/admin/branding", "saved")),
        Err(AdminError::Invalid(errors)) => {
            unprocessable(branding_page(&state, &ctx, input, errors, None))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ColorQuery {
    c: Option<String>,
}

/// `GET /static/brand.css?c=rrggbb`: the brand colour as CSS variables.
/// Pages link it with the colour in the URL, so the answer depends on the
/// URL alone and is cached for a year; without a valid `c` it is this
/// node's current colour, not cached.
pub async fn brand_stylesheet(
    State(state): State<AppState>,
    Query(query): Query<ColorQuery>,
) -> Response {
    let (hex, cache) = match query.c.as_deref().and_then(admin_service::parse_color) {
        Some(hex) => (hex, "public, max-age=31536000, immutable"),
        None => (
            admin_service::current_branding(&state)
                .color_hex()
                .to_owned(),
            "no-cache",
        ),
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
        ],
        admin_service::brand_stylesheet(&hex),
    )
        .into_response()
}
