//! Files in and out of forms, shared by the portal, the agent workspace and
//! the widget: multipart forms read part by part as they arrive, each file
//! streamed to the blob store with its size counted on the way, within the
//! upload limits; clean names and types; downloads that are always
//! attachments, never rendered.
//!
//! A multipart form sends its CSRF token as its first part, read by
//! [`multipart_csrf_token`] before any file is: no token ever travels in a
//! URL, where proxies log it.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    RequestExt,
    body::{Body, BodyDataStream},
    extract::{FromRequest, Request},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::encode_query_value;
use crate::{
    AppState, blob::BlobWriter, error::AppError, service::attachments::StagedFiles,
    store::tickets::StoredFile,
};

/// Text fields a form may have besides its files: the largest of Chamado's
/// forms (a new ticket with its added questions) has far fewer.
pub(crate) const MAX_TEXT_FIELDS: usize = 50;
/// Bytes of one text field: a message of 20,000 characters fits even when
/// every character takes four bytes.
pub(crate) const MAX_FIELD_BYTES: usize = 128 * 1024;
/// Bytes of all the text fields of one form.
pub(crate) const MAX_TEXT_BYTES: usize = 256 * 1024;
/// The field that carries the CSRF token, first in every multipart form.
const CSRF_FIELD: &str = "csrf_token";
/// Bytes of the body read to find the token: the boundary, the part's
/// headers and a 64-character token fit many times over.
const CSRF_PEEK_BYTES: usize = 16 * 1024;

/// The value of a text field of a multipart form ("" when absent).
pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.get(..19)
                .is_some_and(|t| t.eq_ignore_ascii_case("multipart/form-data"))
        })
}

fn boundary(req: &Request) -> Option<String> {
    let content_type = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    multer::parse_boundary(content_type).ok()
}

/// The CSRF token of a multipart request: the value of its first part,
/// which must be the `csrf_token` field; `None` for any other first part.
/// Only the start of the body is read (never past [`CSRF_PEEK_BYTES`] and
/// the chunk that crosses it) and handed back in front of the rest, so no
/// file is read, let alone stored, before the token is checked, and no
/// handler can read a form whose token was not. Requests that are not
/// multipart come back untouched, with `None`.
pub(crate) async fn multipart_csrf_token(req: Request) -> (Option<String>, Request) {
    if !is_multipart(&req) {
        return (None, req);
    }
    let Some(boundary) = boundary(&req) else {
        return (None, req);
    };
    let (parts, body) = req.into_parts();
    let mut rest = body.into_data_stream();
    let mut read: Vec<Bytes> = Vec::new();
    let token = {
        let mut read_bytes = 0;
        let start = futures_util::stream::poll_fn(|cx| {
            // Past the limit the parser sees the end of the body: a token
            // part not complete by then is refused as missing.
            if read_bytes >= CSRF_PEEK_BYTES {
                return Poll::Ready(None);
            }
            let item = std::task::ready!(rest.poll_next_unpin(cx));
            if let Some(Ok(chunk)) = &item {
                read_bytes += chunk.len();
                read.push(chunk.clone());
            }
            Poll::Ready(item)
        });
        first_part_token(multer::Multipart::new(start, boundary)).await
    };
    let replay = futures_util::stream::iter(read.into_iter().map(Ok::<_, axum::Error>));
    let body = Body::from_stream(replay.chain(rest));
    (token, Request::from_parts(parts, body))
}

async fn first_part_token(mut multipart: multer::Multipart<'_>) -> Option<String> {
    let mut field = multipart.next_field().await.ok()??;
    if field.name() != Some(CSRF_FIELD) || field.file_name().is_some() {
        return None;
    }
    let mut value = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        value.extend_from_slice(&chunk);
        if value.len() > 256 {
            return None;
        }
    }
    String::from_utf8(value).ok()
}

/// A multipart form body, to be read part by part as it arrives
/// ([`read_multipart`]).
pub struct MultipartForm(multer::Multipart<'static>);

impl<S: Send + Sync> FromRequest<S> for MultipartForm {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let boundary = boundary(&req)
            .ok_or_else(|| AppError::BadRequest("a multipart form was expected".to_owned()))?;
        let body = req.with_limited_body().into_body().into_data_stream();
        Ok(Self(multer::Multipart::new(
            OneChunkPerPoll::new(body),
            boundary,
        )))
    }
}

/// Hands the multipart parser one chunk of the body per poll. The parser
/// takes every chunk that is ready into its own buffer before it returns
/// any; against a fast sender and a busy disk that buffer would grow with
/// the upload instead of staying at one chunk.
struct OneChunkPerPoll {
    inner: BodyDataStream,
    just_gave: bool,
}

impl OneChunkPerPoll {
    fn new(inner: BodyDataStream) -> Self {
        Self {
            inner,
            just_gave: false,
        }
    }
}

impl Stream for OneChunkPerPoll {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.just_gave {
            self.just_gave = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let item = std::task::ready!(self.inner.poll_next_unpin(cx));
        self.just_gave = true;
        Poll::Ready(item)
    }
}

/// Why a multipart form was not read to its end: a message key for the
/// form's files.
type FormRefusal = &'static str;

/// Reads a multipart form: text fields and files, within the configured
/// limits (the portal's rules). Each file goes to the blob store as it
/// arrives; a file over the size limit, a file too many, too many parts or
/// too much text stop the reading at once, and the files stored so far are
/// deleted. The text read so far comes back either way so the form can be
/// shown again with what was typed.
pub(crate) async fn read_multipart(
    state: &AppState,
    form: MultipartForm,
) -> (Vec<(String, String)>, Result<StagedFiles, FormRefusal>) {
    let mut fields = Vec::new();
    let mut staged = StagedFiles::new(state.blobs.clone());
    let outcome = read_parts(state, form, &mut fields, &mut staged).await;
    match outcome {
        Ok(()) => (fields, Ok(staged)),
        Err(key) => {
            staged.discard().await;
            (fields, Err(key))
        }
    }
}

async fn read_parts(
    state: &AppState,
    MultipartForm(mut multipart): MultipartForm,
    fields: &mut Vec<(String, String)>,
    staged: &mut StagedFiles,
) -> Result<(), FormRefusal> {
    let max_files = usize::try_from(state.config.upload_max_files).unwrap_or(usize::MAX);
    let max_parts = max_files.saturating_add(MAX_TEXT_FIELDS + 1);
    let mut parts = 0;
    let mut text_fields = 0;
    let mut text_bytes = 0;
    while let Some(mut part) = multipart
        .next_field()
        .await
        .map_err(|_| "form.upload_failed")?
    {
        parts += 1;
        if parts > max_parts {
            return Err("form.too_many_parts");
        }
        let name = part.name().unwrap_or_default().to_owned();
        let Some(file_name) = part.file_name().map(str::to_owned) else {
            text_fields += 1;
            if text_fields > MAX_TEXT_FIELDS + 1 {
                return Err("form.too_many_parts");
            }
            let text = read_text(&mut part, &mut text_bytes).await?;
            if name != CSRF_FIELD {
                fields.push((name, text));
            }
            continue;
        };
        let content_type = part.content_type().map_or_else(
            || "application/octet-stream".to_owned(),
            ToString::to_string,
        );
        let Some(blob) = read_file(state, &mut part, !file_name.is_empty(), staged.len()).await?
        else {
            // An empty file input arrives as a nameless, empty part.
            continue;
        };
        staged.push(StoredFile {
            file_name: sanitize_file_name(&file_name),
            content_type: sanitize_content_type(&content_type),
            size_bytes: i64::try_from(blob.size).unwrap_or(i64::MAX),
            sha256: blob.sha256,
            storage_key: blob.key,
        });
    }
    Ok(())
}

/// A text part, within the per-field and per-form limits.
async fn read_text(
    part: &mut multer::Field<'static>,
    form_bytes: &mut usize,
) -> Result<String, FormRefusal> {
    let mut text = Vec::new();
    while let Some(chunk) = part.chunk().await.map_err(|_| "form.upload_failed")? {
        *form_bytes += chunk.len();
        if text.len() + chunk.len() > MAX_FIELD_BYTES || *form_bytes > MAX_TEXT_BYTES {
            return Err("form.text_too_large");
        }
        text.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// A file part, written to the blob store as it arrives. `None` for an
/// empty part without a name (a file input left empty). The blob is
/// started with the first byte, so a file too many is refused before
/// anything of it is stored.
async fn read_file(
    state: &AppState,
    part: &mut multer::Field<'static>,
    named: bool,
    files_before: usize,
) -> Result<Option<crate::blob::StoredBlob>, FormRefusal> {
    let max_file = state.config.upload_max_file_bytes;
    let mut writer: Option<BlobWriter> = None;
    loop {
        let chunk = match part.chunk().await {
            Ok(Some(chunk)) if chunk.is_empty() => continue,
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(_) => return abort(writer, "form.upload_failed").await,
        };
        let current = match writer.as_mut() {
            Some(current) => current,
            None => writer.insert(start_file(state, files_before).await?),
        };
        if current.size() + chunk.len() as u64 > max_file {
            return abort(writer, "form.file_too_large").await;
        }
        if let Err(error) = current.write(&chunk).await {
            tracing::error!(%error, "could not store an upload");
            return abort(writer, "form.upload_failed").await;
        }
    }
    let writer = match writer {
        Some(writer) => writer,
        None if !named => return Ok(None),
        None => start_file(state, files_before).await?,
    };
    writer.finish().await.map(Some).map_err(|error| {
        tracing::error!(%error, "could not store an upload");
        "form.upload_failed"
    })
}

/// A new file in the blob store, unless the form already has its files.
async fn start_file(state: &AppState, files_before: usize) -> Result<BlobWriter, FormRefusal> {
    let max_files = usize::try_from(state.config.upload_max_files).unwrap_or(usize::MAX);
    if files_before >= max_files {
        return Err("form.too_many_files");
    }
    state.blobs.writer().await.map_err(|error| {
        tracing::error!(%error, "could not start storing an upload");
        "form.upload_failed"
    })
}

async fn abort<T>(writer: Option<BlobWriter>, key: FormRefusal) -> Result<T, FormRefusal> {
    if let Some(writer) = writer {
        writer.abort().await;
    }
    Err(key)
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
