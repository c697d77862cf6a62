//! The SDK's one public error type: few variants, each one a caller can act
//! on. Messages name the field or the operation, never a position, a speed or
//! any other personal data.

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SdkError {
    /// A sample, setting or argument is unusable; fix the call.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// The field and the rule.
        reason: String,
    },
    /// The call does not fit the session's state (no trip running, a trip
    /// already running, the SDK closed).
    #[error("invalid state: {reason}")]
    InvalidState {
        /// What the state is.
        reason: String,
    },
    /// The on-device database failed (disk full, corrupt file, permissions).
    /// What was already stored is kept; retry later or reopen.
    #[error("storage: {reason}")]
    Storage {
        /// The operation and the database's message.
        reason: String,
    },
    /// Sync did not complete (network, server, credentials); the events stay
    /// in the outbox and the next sync sends them.
    #[error("sync: {reason}")]
    Sync {
        /// What failed.
        reason: String,
        /// Whether retrying later can help (false for refused credentials).
        retryable: bool,
    },
}

impl SdkError {
    pub(crate) fn arg(reason: impl Into<String>) -> Self {
        SdkError::InvalidArgument {
            reason: reason.into(),
        }
    }

    pub(crate) fn state(reason: impl Into<String>) -> Self {
        SdkError::InvalidState {
            reason: reason.into(),
        }
    }

    pub(crate) fn storage(op: &str, e: impl std::fmt::Display) -> Self {
        SdkError::Storage {
            reason: format!("{op}: {e}"),
        }
    }
}

impl From<rusqlite::Error> for SdkError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        let what = match e.sqlite_error_code() {
            Some(C::DiskFull) => {
                "outbox database full (the disk, or outbox_max_bytes); stored events are kept"
            }
            Some(C::DatabaseCorrupt | C::NotADatabase) => {
                "outbox database corrupt; the file is kept, move it aside to start afresh"
            }
            Some(C::ReadOnly | C::CannotOpen | C::PermissionDenied) => {
                "outbox database not writable (permissions or path)"
            }
            _ => "outbox database",
        };
        SdkError::storage(what, e)
    }
}
