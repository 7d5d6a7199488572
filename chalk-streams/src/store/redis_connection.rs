//! The Redis store's connection, made anew after failures the client would keep.
//!
//! redis-rs's `ConnectionManager` reconnects only when the connection drops. It keeps using
//! one that answers every write with `READONLY` (a primary demoted by a failover behind one
//! address, which keeps its clients), and one whose answers time out (a host gone without a
//! reset, until the kernel gives up on the socket, minutes later). And it keeps a failed
//! connection attempt that was not an I/O error (a password refused while it was being
//! changed) and returns that error for every later command. Each of these would have the
//! runtime wait for ever on a server that is back, or on another that took over.

use std::sync::{Arc, Mutex, PoisonError};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError};

use super::redis_limits::ServerLimits;

/// A connection shared by the store's clones; replaced, for all of them, after a failure.
#[derive(Clone)]
pub(super) struct RedisConnection {
    current: Arc<Mutex<Current>>,
    client: Client,
    config: ConnectionManagerConfig,
}

struct Current {
    /// How many connections came before this one.
    generation: u64,
    manager: ConnectionManager,
    /// The limits of the server it reaches, once read: a new connection may reach another
    /// server (after a failover), whose limits are read again.
    limits: Option<ServerLimits>,
}

/// A connection taken for some commands, with what [`RedisConnection::failed`] needs to know.
pub(super) struct Taken {
    pub(super) manager: ConnectionManager,
    /// The limits of the server it reaches, if read already.
    pub(super) limits: Option<ServerLimits>,
    generation: u64,
}

impl RedisConnection {
    /// A connection made at the first command.
    pub(super) fn lazy(
        client: Client,
        config: ConnectionManagerConfig,
    ) -> Result<Self, RedisError> {
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())?;
        Ok(Self {
            current: Arc::new(Mutex::new(Current {
                generation: 0,
                manager,
                limits: None,
            })),
            client,
            config,
        })
    }

    /// The connection to send commands on now.
    pub(super) fn take(&self) -> Taken {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        Taken {
            manager: current.manager.clone(),
            limits: current.limits,
            generation: current.generation,
        }
    }

    /// Keeps the `limits` read through `taken`, for the later commands on its connection.
    pub(super) fn learned(&self, taken: &Taken, limits: ServerLimits) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.generation == taken.generation {
            current.limits = Some(limits);
        }
    }

    /// After a command on `taken` failed for want of the server (not for what it sent): the
    /// next commands go on a new connection, unless another failure replaced it already. A
    /// connection the client would remake itself (one that dropped) is remade all the same:
    /// one more connection, after a failure, costs nothing worth telling apart.
    pub(super) fn failed(&self, taken: &Taken) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.generation != taken.generation {
            return;
        }
        match ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone()) {
            Ok(manager) => {
                current.manager = manager;
                current.generation += 1;
                current.limits = None;
            }
            // Not for a configuration that made the first one: kept, and tried again next time.
            Err(error) => tracing::warn!(%error, "cannot make a new Redis connection"),
        }
    }
}
