//! QR codes as SVG, for links and authenticator URIs shown on staff screens.

use crate::error::{AppError, AppResult};

/// `text` as a QR code: black on white with a quiet zone, at least 240 pixels square.
pub(super) fn svg(text: &str) -> AppResult<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| AppError::internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}
