//! The server's persistence: records by kind and name, each with a
//! revision, so that a store shared by several servers can compare and
//! swap. [`DirStore`] keeps them in a folder.

mod dir;

pub use dir::DirStore;

/// One stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The plural kind (`breeds`, `deployments`, ...).
    pub kind: String,
    /// The name (may contain `/`).
    pub name: String,
    /// Starts at 1 and grows by one on every put.
    pub revision: u64,
    /// The stored text.
    pub body: String,
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage could not be read or written (the artifact stores'
    /// `Io` error).
    #[error(transparent)]
    Io(#[from] vamp_deploy::store::StoreError),
    /// A compare-and-swap found another revision.
    #[error("`{kind}/{name}` is at revision {actual}, not {expected}")]
    Conflict {
        /// Kind.
        kind: String,
        /// Name.
        name: String,
        /// The revision the writer read.
        expected: u64,
        /// The revision found.
        actual: u64,
    },
}

/// What a store operation returns.
pub type Result<T> = std::result::Result<T, StoreError>;

/// A store of records. Every write is durable when it returns.
pub trait Store: Send + Sync {
    /// Every record (used once, when the server starts).
    ///
    /// # Errors
    /// When the storage cannot be read.
    fn load_all(&self) -> Result<Vec<Record>>;

    /// One record.
    ///
    /// # Errors
    /// When the storage cannot be read.
    fn get(&self, kind: &str, name: &str) -> Result<Option<Record>>;

    /// Writes a record and returns its new revision. With `expected`, the
    /// write happens only if the current revision is that one (0: absent).
    ///
    /// # Errors
    /// `Conflict` when `expected` does not hold, `Io` when writing fails.
    fn put(&self, kind: &str, name: &str, body: &str, expected: Option<u64>) -> Result<u64>;

    /// Deletes a record; false when there was none.
    ///
    /// # Errors
    /// When the storage cannot be written.
    fn delete(&self, kind: &str, name: &str) -> Result<bool>;

    /// The names of a kind, sorted.
    ///
    /// # Errors
    /// When the storage cannot be read.
    fn list(&self, kind: &str) -> Result<Vec<String>>;
}
