//! The users module's wire: [`RemoteUsers`] calls it in another process; [`serve`] answers for
//! the module hosted here.

use async_trait::async_trait;
use kernel::Trace;
use users_api::{
    Actor, DirectoryError, LogIn, Password, ProfileChange, Registration, Role, Session, User,
    UserDirectory, UserFilter, UserPage, UsersApi, UsersError,
};
use uuid::Uuid;

use super::{Fault, Remote, answer};

/// The users module of another process.
pub(crate) struct RemoteUsers(pub(crate) Remote);

#[async_trait]
impl UserDirectory for RemoteUsers {
    async fn find_user(&self, id: Uuid) -> Result<Option<User>, DirectoryError> {
        self.0
            .call::<_, _, UsersError>("find_user", &(id,))
            .await
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))
    }
}

#[async_trait]
impl UsersApi for RemoteUsers {
    async fn register(&self, trace: Trace, input: Registration) -> Result<User, UsersError> {
        self.0.call("register", &(trace, input)).await
    }

    async fn create_admin(&self, trace: Trace, input: Registration) -> Result<User, UsersError> {
        self.0.call("create_admin", &(trace, input)).await
    }

    async fn log_in(&self, attempt: LogIn) -> Result<Session, UsersError> {
        self.0.call("log_in", &(attempt,)).await
    }

    async fn log_out(&self, token: &str) -> Result<(), UsersError> {
        self.0.call("log_out", &(token,)).await
    }

    async fn authenticate(&self, token: &str) -> Result<Option<User>, UsersError> {
        self.0.call("authenticate", &(token,)).await
    }

    async fn get(&self, actor: &Actor, id: Uuid) -> Result<User, UsersError> {
        self.0.call("get", &(actor, id)).await
    }

    async fn list(&self, actor: &Actor, filter: UserFilter) -> Result<UserPage, UsersError> {
        self.0.call("list", &(actor, filter)).await
    }

    async fn count(&self) -> Result<i64, UsersError> {
        self.0.call("count", &()).await
    }

    async fn update(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        change: ProfileChange,
    ) -> Result<User, UsersError> {
        self.0.call("update", &(trace, actor, id, change)).await
    }

    async fn reset_password(&self, id: Uuid, password: Password) -> Result<(), UsersError> {
        self.0.call("reset_password", &(id, password)).await
    }

    async fn deactivate(&self, trace: Trace, actor: &Actor, id: Uuid) -> Result<User, UsersError> {
        self.0.call("deactivate", &(trace, actor, id)).await
    }

    async fn set_role(
        &self,
        trace: Trace,
        actor: &Actor,
        id: Uuid,
        role: Role,
    ) -> Result<User, UsersError> {
        self.0.call("set_role", &(trace, actor, id, role)).await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, UsersError> {
        self.0.call("find_by_email", &(email,)).await
    }
}

/// Answers one call to the users module hosted here.
pub(crate) async fn serve(
    api: &dyn UsersApi,
    operation: &str,
    body: &[u8],
) -> Result<Vec<u8>, Fault> {
    match operation {
        "find_user" => {
            answer(body, |(id,): (Uuid,)| async move {
                api.find_user(id).await.map_err(|e| {
                    UsersError::Storage(kernel::Error::Remote {
                        module: users_api::STREAM.into(),
                        unavailable: true,
                        message: e.to_string(),
                    })
                })
            })
            .await
        }
        "register" => {
            answer(body, |(trace, input): (Trace, Registration)| {
                api.register(trace, input)
            })
            .await
        }
        "create_admin" => {
            answer(body, |(trace, input): (Trace, Registration)| {
                api.create_admin(trace, input)
            })
            .await
        }
        "log_in" => answer(body, |(attempt,): (LogIn,)| api.log_in(attempt)).await,
        "log_out" => {
            answer(body, |(token,): (String,)| async move {
                api.log_out(&token).await
            })
            .await
        }
        "authenticate" => {
            answer(body, |(token,): (String,)| async move {
                api.authenticate(&token).await
            })
            .await
        }
        "get" => {
            answer(body, |(actor, id): (Actor, Uuid)| async move {
                api.get(&actor, id).await
            })
            .await
        }
        "list" => {
            answer(body, |(actor, filter): (Actor, UserFilter)| async move {
                api.list(&actor, filter).await
            })
            .await
        }
        "count" => answer(body, |(): ()| api.count()).await,
        "update" => {
            answer(
                body,
                |(trace, actor, id, change): (Trace, Actor, Uuid, ProfileChange)| async move {
                    api.update(trace, &actor, id, change).await
                },
            )
            .await
        }
        "reset_password" => {
            answer(body, |(id, password): (Uuid, Password)| {
                api.reset_password(id, password)
            })
            .await
        }
        "deactivate" => {
            answer(
                body,
                |(trace, actor, id): (Trace, Actor, Uuid)| async move {
                    api.deactivate(trace, &actor, id).await
                },
            )
            .await
        }
        "set_role" => {
            answer(
                body,
                |(trace, actor, id, role): (Trace, Actor, Uuid, Role)| async move {
                    api.set_role(trace, &actor, id, role).await
                },
            )
            .await
        }
        "find_by_email" => {
            answer(body, |(email,): (String,)| async move {
                api.find_by_email(&email).await
            })
            .await
        }
        other => Err(Fault::Unknown(other.to_owned())),
    }
}
