//! Files in and out of forms, shared by the portal and the agent
//! workspace: multipart reading within the upload limits, clean names and
//! types, and downloads that are always attachments, never rendered.

use axum::{
    extract::Multipart,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::{Bytes, BytesMut};

use super::encode_query_value;
use crate::{AppState, service::attachments::Upload};

/// The value of a text field of a multipart form ("" when absent).
pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Reads a multipart form: text fields and files, within the configured
/// limits (the portal's rules). A file over the limit stops the reading
/// before anything is stored; the text read so far comes back either way
/// so the form can be shown again with what the agent typed.
pub(crate) async fn read_multipart(
    state: &AppState,
    mut multipart: Multipart,
) -> (Vec<(String, String)>, Result<Vec<Upload>, &'static str>) {
    let mut fields = Vec::new();
    let mut uploads = Vec::new();
    let max_file = state.config.upload_max_file_bytes;
    let max_files = usize::try_from(state.config.upload_max_files).unwrap_or(usize::MAX);
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return (fields, Err("form.upload_failed")),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            match field.text().await {
                Ok(text) => fields.push((name, text)),
                Err(_) => return (fields, Err("form.upload_failed")),
            }
            continue;
        };
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut data = BytesMut::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if (data.len() + chunk.len()) as u64 > max_file {
                        return (fields, Err("form.file_too_large"));
                    }
                    data.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(_) => return (fields, Err("form.file_too_large")),
            }
        }
        // An empty file input arrives as a nameless, empty part.
        if file_name.is_empty() && data.is_empty() {
            continue;
        }
        if uploads.len() == max_files {
            return (fields, Err("form.too_many_files"));
        }
        uploads.push(Upload {
            file_name: sanitize_file_name(&file_name),
            content_type: sanitize_content_type(&content_type),
            data: Bytes::from(data),
        });
    }
    (fields, Ok(uploads))
}

/// Keeps only the last path segment and drops control characters.
pub(crate) fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() {
        "arquivo".to_owned()
    } else {
        clean
    }
}

pub(crate) fn sanitize_content_type(value: &str) -> String {
    let ok = value.len() <= 100
        && value.contains('/')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/+-.".contains(c));
    if ok {
        value.to_ascii_lowercase()
    } else {
        "application/octet-stream".to_owned()
    }
}

/// A stored file as a download: never rendered inline, types a browser
/// could run sent as plain bytes, sandboxed, not cached by shared caches.
pub(crate) fn download(data: Bytes, file_name: &str, content_type: &str) -> Response {
    let lower = content_type.to_ascii_lowercase();
    let risky = ["html", "svg", "xml", "javascript", "ecmascript"]
        .iter()
        .any(|kind| lower.contains(kind));
    let content_type = if risky {
        "application/octet-stream"
    } else {
        content_type
    };
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode_query_value(file_name)
    );
    let mut response = data.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_names_lose_their_paths() {
        assert_eq!(sanitize_file_name("C:\\Users\\ana\\nota.pdf"), "nota.pdf");
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("\u{0}"), "arquivo");
        assert_eq!(
            sanitize_content_type("text/html; charset=utf-8"),
            "application/octet-stream"
        );
        assert_eq!(sanitize_content_type("Application/PDF"), "application/pdf");
    }

    #[test]
    fn risky_types_download_as_bytes_with_a_safe_name() {
        let response = download(
            Bytes::from_static(b"<script>"),
            "relatório \"final\".html",
            "text/html",
        );
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
        let disposition = headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap_or_default();
        assert!(
            disposition.starts_with("attachment; filename=\"relat_rio _final_.html\""),
            "{disposition}"
        );
        assert!(
            disposition.contains("filename*=UTF-8''relat%C3%B3rio%20%22final%22.html"),
            "{disposition}"
        );
        let pdf = download(Bytes::new(), "a.pdf", "application/pdf");
        assert_eq!(pdf.headers()[header::CONTENT_TYPE], "application/pdf");
    }
}
