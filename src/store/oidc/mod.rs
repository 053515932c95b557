//! What the OpenID Connect provider keeps: connected sites ([`sites`]), signing keys
//! ([`keys`]), and the codes, grants and tokens members hold at sites ([`grants`]).

pub mod grants;
pub mod keys;
pub mod sites;
