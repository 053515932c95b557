//! The default transport: each message becomes an RFC 5322 `.eml` file in the outbox
//! directory, so a fresh install shows its mail without any provider. The queue row is the
//! other half of the record.

use std::path::PathBuf;

use super::{Envelope, MailTransport, OutgoingEmail, SendError};

pub struct OutboxTransport {
    dir: PathBuf,
    envelope: Envelope,
}

impl OutboxTransport {
    pub fn new(dir: PathBuf, envelope: Envelope) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, envelope })
    }
}

#[async_trait::async_trait]
impl MailTransport for OutboxTransport {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let bytes = self.envelope.message(email)?.formatted();
        let name = format!(
            "{:010}-{}.eml",
            email.outbound_id.get(),
            uuid::Uuid::new_v4().simple()
        );
        // Written under a temporary name and renamed, so a reader never sees half a message.
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(&name);
        tokio::fs::write(&tmp, &bytes)
            .await
            .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", tmp.display())))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", path.display())))?;
        Ok(name)
    }
}
