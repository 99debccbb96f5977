//! Lambda's quotas and limits (§7.2, §7.8), as constants.

/// Smallest and largest MemorySize, MB.
pub const MEMORY_MIN: i64 = 128;
/// Largest MemorySize AWS accepts for ordinary functions, MB.
pub const MEMORY_MAX: i64 = 10240;
/// Timeout bounds, seconds.
pub const TIMEOUT_MIN: i64 = 1;
/// Largest timeout, seconds.
pub const TIMEOUT_MAX: i64 = 900;
/// Ephemeral storage bounds, MB.
pub const EPHEMERAL_MIN: i64 = 512;
/// Largest ephemeral storage, MB.
pub const EPHEMERAL_MAX: i64 = 10240;
/// Direct-upload zip size, bytes.
pub const ZIPPED_MAX: u64 = 52_428_800;
/// Whole CreateFunction/UpdateFunctionCode request body, bytes.
pub const CODE_REQUEST_MAX: usize = 70_167_211;
/// How much of a code request Lamina reads before giving up: enough to see that an oversized zip is the
/// problem (AWS reports the zipped size before the request size).
pub const CODE_READ_CAP: usize = 80_000_000;
/// Any other control-plane request body, bytes (AWS does not document one; generous).
pub const REQUEST_MAX: usize = 6_291_456;
/// Unzipped code plus layers, bytes.
pub const UNZIPPED_MAX: u64 = 262_144_000;
/// Environment variables as compact JSON, bytes.
pub const ENV_MAX: usize = 4096;
/// Layers per function.
pub const LAYERS_MAX: usize = 5;
/// Tags per resource.
pub const TAGS_MAX: usize = 50;
/// Total code storage per region, bytes.
pub const TOTAL_CODE_SIZE: u64 = 80_530_636_800;
/// Function resource policy document, bytes.
pub const POLICY_MAX: usize = 20_480;
/// Default account concurrency.
pub const ACCOUNT_CONCURRENCY: i64 = 1000;
/// Unreserved concurrency that must remain.
pub const UNRESERVED_MIN: i64 = 100;
/// Page size cap for ListFunctions / ListVersionsByFunction.
pub const FUNCTION_PAGE_MAX: usize = 50;
