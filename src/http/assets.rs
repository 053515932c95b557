//! Files compiled into the binary (the `/portal` pages, GraphiQL and its vendored libraries),
//! served with the headers every built-in page carries: a strict CSP, no framing, no sniffing,
//! no Referer. Cacheable files are revalidated by ETag, so after an upgrade a browser never
//! keeps running an old copy, and an unchanged file costs a 304.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// How a browser may keep a file.
pub(super) enum Cache {
    /// Never stored: pages that handle secrets.
    Never,
    /// Stored, but checked against its ETag before each use.
    Revalidate,
}

/// One compiled-in file.
pub(super) struct Asset {
    pub content_type: &'static str,
    pub body: &'static [u8],
    pub csp: &'static str,
    pub cache: Cache,
    etag: OnceLock<HeaderValue>,
}

impl Asset {
    pub(super) const fn new(
        content_type: &'static str,
        body: &'static [u8],
        csp: &'static str,
        cache: Cache,
    ) -> Self {
        Self {
            content_type,
            body,
            csp,
            cache,
            etag: OnceLock::new(),
        }
    }

    fn etag(&self) -> &HeaderValue {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(self.body);
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header value")
        })
    }

    /// The response to a GET for this file.
    pub(super) fn respond(&'static self, request: &HeaderMap) -> Response {
        let mut resp = match self.cache {
            Cache::Never => self.body.into_response(),
            Cache::Revalidate => {
                let etag = self.etag();
                let fresh = request
                    .get_all(header::IF_NONE_MATCH)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .any(|t| t.trim() == etag.to_str().unwrap_or_default());
                let mut resp = if fresh {
                    StatusCode::NOT_MODIFIED.into_response()
                } else {
                    self.body.into_response()
                };
                resp.headers_mut().insert(header::ETAG, etag.clone());
                resp
            }
        };
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        protect(h, self.csp, &self.cache, "no-referrer");
        resp
    }
}

/// The headers every built-in page and file carries: its CSP, no framing, no sniffing, how
/// it may be cached, and how much of its address a link from it may tell (`referrer`).
pub(super) fn protect(h: &mut HeaderMap, csp: &'static str, cache: &Cache, referrer: &'static str) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match cache {
            Cache::Never => "no-store",
            Cache::Revalidate => "no-cache",
        }),
    );
}
