//! What the OpenID Connect provider keeps: connected sites ([`sites`]), signing keys
//! ([`keys`]), the codes, grants and tokens members hold at sites ([`grants`]), and the member behind
//! them as sites see them ([`members`]).

pub mod grants;
pub mod keys;
pub mod members;
pub mod sites;
