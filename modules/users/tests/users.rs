//! The users module driven through its public face, on a fresh data folder per test.

use std::sync::Arc;
use users_api::UsersApi;

use kernel::{DbSettings, EventSource, PageSize, Platform, Trace};
use users::Users;
use users_api::{
    Actor, Credentials, LogIn, NewUser, ProfileChange, Registration, Role, User, UserDeactivated,
    UserDirectory, UserEmailChanged, UserFilter, UserPatch, UserRegistered, UserRoleChanged,
    UsersError,
};

struct TestModule {
    _dir: tempfile::TempDir,
    users: Users,
}

async fn open() -> TestModule {
    let dir = tempfile::tempdir().unwrap();
    let users = Users::open(&Platform::new(DbSettings::new(dir.path()), 64))
        .await
        .unwrap();
    TestModule { _dir: dir, users }
}

impl TestModule {
    /// A registered customer (password "correct horse").
    async fn customer(&self, email: &str) -> User {
        self.users
            .register(Trace::new_root(), new_user(email))
            .await
            .unwrap()
    }

    /// An administrator (password "correct horse").
    async fn admin(&self, email: &str) -> User {
        self.users
            .create_admin(Trace::new_root(), new_user(email))
            .await
            .unwrap()
    }
}

fn new_user(email: &str) -> Registration {
    Registration::try_from(NewUser {
        email: email.into(),
        full_name: "Ada Lovelace".into(),
        password: "correct horse".into(),
        ..NewUser::default()
    })
    .unwrap()
}

fn login(email: &str, password: &str) -> LogIn {
    LogIn::try_from(Credentials {
        email: email.into(),
        password: password.into(),
    })
    .unwrap()
}

fn change(patch: UserPatch) -> ProfileChange {
    ProfileChange::try_from(patch).unwrap()
}

fn page(limit: u32, after: Option<&str>) -> UserFilter {
    UserFilter {
        limit: PageSize::new(limit).unwrap(),
        after: after.map(|c| c.parse().unwrap()),
    }
}

async fn events(log: &Arc<dyn EventSource>) -> Vec<Arc<kernel::Envelope>> {
    log.read(0, 100).await.unwrap()
}

#[tokio::test]
async fn registering_creates_a_customer_and_emits_user_registered() {
    let m = open().await;
    let user = m.customer("ada@example.com").await;
    assert_eq!(user.role, Role::Customer);
    assert!(user.active);
    let log = m.users.handle().event_log();
    let events = events(&log).await;
    assert_eq!(events.len(), 1);
    let registered: UserRegistered = events[0].decode().unwrap();
    assert_eq!(registered.user_id, user.id);
    assert_eq!(registered.email, "ada@example.com");
}

#[tokio::test]
async fn an_email_is_taken_whatever_its_letter_case() {
    let m = open().await;
    m.customer("ada@example.com").await;
    let err = m
        .users
        .register(Trace::new_root(), new_user("ADA@Example.COM"))
        .await
        .unwrap_err();
    assert!(matches!(err, UsersError::EmailTaken), "{err:?}");
    assert_eq!(m.users.count().await.unwrap(), 1);
}

#[tokio::test]
async fn invalid_sign_up_fields_are_all_reported_and_nothing_is_stored() {
    let m = open().await;
    let fields = Registration::try_from(NewUser {
        email: "nope".into(),
        full_name: " ".into(),
        password: "short".into(),
        ..NewUser::default()
    })
    .unwrap_err();
    let named: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(named, ["email", "full_name", "password"]);
    assert_eq!(m.users.count().await.unwrap(), 0);
    assert!(events(&m.users.handle().event_log()).await.is_empty());
}

#[tokio::test]
async fn logging_in_with_the_right_password_opens_a_session_that_authenticates() {
    let m = open().await;
    let user = m.customer("ada@example.com").await;
    let session = m
        .users
        .log_in(login(" Ada@Example.com", "correct horse"))
        .await
        .unwrap();
    assert_eq!(session.user.id, user.id);
    assert_eq!(
        m.users
            .authenticate(&session.token)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(user.id)
    );

    m.users.log_out(&session.token).await.unwrap();
    assert_eq!(m.users.authenticate(&session.token).await.unwrap(), None);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_fail_the_same_way() {
    let m = open().await;
    m.customer("ada@example.com").await;
    let wrong = m
        .users
        .log_in(login("ada@example.com", "wrong horse"))
        .await
        .unwrap_err();
    let unknown = m
        .users
        .log_in(login("bob@example.com", "correct horse"))
        .await
        .unwrap_err();
    assert!(matches!(wrong, UsersError::InvalidCredentials), "{wrong:?}");
    assert!(
        matches!(unknown, UsersError::InvalidCredentials),
        "{unknown:?}"
    );
    assert_eq!(m.users.authenticate("made-up-token").await.unwrap(), None);
}

#[tokio::test]
async fn a_customer_reads_only_themselves_and_only_admins_list_users() {
    let m = open().await;
    let ada = m.customer("ada@example.com").await;
    let bob = m.customer("bob@example.com").await;
    let admin = m.admin("root@example.com").await;
    assert_eq!(admin.role, Role::Admin);

    let as_ada = Actor::of(&ada);
    assert_eq!(m.users.get(&as_ada, ada.id).await.unwrap().id, ada.id);
    assert!(matches!(
        m.users.get(&as_ada, bob.id).await,
        Err(UsersError::Forbidden)
    ));
    assert!(matches!(
        m.users.list(&as_ada, UserFilter::default()).await,
        Err(UsersError::Forbidden)
    ));

    let as_admin = Actor::of(&admin);
    assert_eq!(m.users.get(&as_admin, bob.id).await.unwrap().id, bob.id);
    let first = m.users.list(&as_admin, page(2, None)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = m
        .users
        .list(&as_admin, page(2, first.next_cursor.as_deref()))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.next_cursor, None);
    let all: Vec<_> = first
        .items
        .iter()
        .chain(&rest.items)
        .map(|u| u.id)
        .collect();
    assert_eq!(all, [ada.id, bob.id, admin.id]);
}

#[tokio::test]
async fn changing_the_email_bumps_its_version_and_emits_user_email_changed() {
    let m = open().await;
    let ada = m.customer("ada@example.com").await;
    let trace = Trace::new_root();
    let patch = UserPatch {
        email: Some("ada@lovelace.org".into()),
        full_name: None,
        ..UserPatch::default()
    };
    let updated = m
        .users
        .update(trace, &Actor::of(&ada), ada.id, change(patch))
        .await
        .unwrap();
    assert_eq!(updated.email, "ada@lovelace.org");
    assert_eq!(updated.email_version, 2);

    let events = events(&m.users.handle().event_log()).await;
    let changed: UserEmailChanged = events.last().unwrap().decode().unwrap();
    assert_eq!(changed.old_email, "ada@example.com");
    assert_eq!(changed.new_email, "ada@lovelace.org");
    assert_eq!(changed.email_version, 2);
    assert_eq!(events.last().unwrap().correlation_id, trace.correlation_id);

    // The old address can log in no more; the new one can.
    assert!(
        m.users
            .log_in(login("ada@example.com", "correct horse"))
            .await
            .is_err()
    );
    assert!(
        m.users
            .log_in(login("ada@lovelace.org", "correct horse"))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn changing_to_an_address_someone_else_has_is_refused_and_changes_nothing() {
    let m = open().await;
    let ada = m.customer("ada@example.com").await;
    m.customer("bob@example.com").await;
    let patch = UserPatch {
        email: Some("BOB@example.com".into()),
        full_name: Some("Ada King".into()),
        ..UserPatch::default()
    };
    let err = m
        .users
        .update(Trace::new_root(), &Actor::of(&ada), ada.id, change(patch))
        .await
        .unwrap_err();
    assert!(matches!(err, UsersError::EmailTaken), "{err:?}");
    let unchanged = m.users.get(&Actor::of(&ada), ada.id).await.unwrap();
    assert_eq!(
        (unchanged.email.as_str(), unchanged.full_name.as_str()),
        ("ada@example.com", "Ada Lovelace")
    );
    assert_eq!(
        events(&m.users.handle().event_log()).await.len(),
        2,
        "a refused change emitted an event"
    );
}

#[tokio::test]
async fn a_deactivated_user_cannot_log_in_loses_their_sessions_and_the_directory_says_so() {
    let m = open().await;
    let ada = m.customer("ada@example.com").await;
    let admin = m.admin("root@example.com").await;
    let session = m
        .users
        .log_in(login("ada@example.com", "correct horse"))
        .await
        .unwrap();

    let deactivated = m
        .users
        .deactivate(Trace::new_root(), &Actor::of(&admin), ada.id)
        .await
        .unwrap();
    assert!(!deactivated.active);
    assert_eq!(m.users.authenticate(&session.token).await.unwrap(), None);
    assert!(matches!(
        m.users
            .log_in(login("ada@example.com", "correct horse"))
            .await,
        Err(UsersError::Deactivated)
    ));
    assert_eq!(
        m.users.find_user(ada.id).await.unwrap().map(|u| u.active),
        Some(false)
    );
    let last = events(&m.users.handle().event_log()).await.pop().unwrap();
    assert_eq!(last.decode::<UserDeactivated>().unwrap().user_id, ada.id);
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_deactivated() {
    let m = open().await;
    let admin = m.admin("root@example.com").await;
    let err = m
        .users
        .deactivate(Trace::new_root(), &Actor::of(&admin), admin.id)
        .await
        .unwrap_err();
    assert!(matches!(err, UsersError::LastAdmin), "{err:?}");
}

#[tokio::test]
async fn an_offline_module_fails_cleanly_and_recovers() {
    let m = open().await;
    let ada = m.customer("ada@example.com").await;
    m.users
        .handle()
        .set_offline_for(Some(std::time::Duration::from_secs(60)));
    assert!(m.users.find_user(ada.id).await.is_err());
    assert_eq!(m.users.handle().health().await.status, "offline");
    m.users.handle().set_offline_for(None);
    assert_eq!(
        m.users.find_user(ada.id).await.unwrap().map(|u| u.id),
        Some(ada.id)
    );
    let health = m.users.handle().health().await;
    assert_eq!(
        (
            health.status,
            health.schema_version,
            health.kernel_schema_version
        ),
        ("up".to_owned(), Some(2), Some(2))
    );
}

#[tokio::test]
async fn an_admin_makes_door_staff_and_the_last_admin_stays_one() {
    let m = open().await;
    let admin = m.admin("boss@example.com").await;
    let ada = m.customer("ada@example.com").await;
    let boss = Actor::of(&admin);
    assert!(matches!(
        m.users
            .set_role(Trace::new_root(), &Actor::of(&ada), ada.id, Role::Door)
            .await,
        Err(UsersError::Forbidden)
    ));
    let door = m
        .users
        .set_role(Trace::new_root(), &boss, ada.id, Role::Door)
        .await
        .unwrap();
    assert_eq!(door.role, Role::Door);
    assert!(Actor::of(&door).works_the_door() && !Actor::of(&door).is_admin());
    let changed: UserRoleChanged = events(&m.users.handle().event_log())
        .await
        .iter()
        .find(|e| e.is::<UserRoleChanged>())
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(
        (changed.old_role, changed.role),
        (Role::Customer, Role::Door)
    );
    assert!(matches!(
        m.users
            .set_role(Trace::new_root(), &boss, admin.id, Role::Customer)
            .await,
        Err(UsersError::LastAdmin)
    ));
}

#[tokio::test]
async fn a_user_reads_times_in_their_own_zone_utc_unless_they_said() {
    let m = open().await;
    let ada = m.customer("ada@example.com").await;
    assert_eq!(ada.time_zone, "UTC");
    let tokyo = m
        .users
        .register(
            Trace::new_root(),
            Registration::try_from(NewUser {
                email: "kenji@example.com".into(),
                full_name: "Kenji".into(),
                password: "correct horse".into(),
                time_zone: Some("asia/tokyo".into()),
            })
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(tokyo.time_zone, "Asia/Tokyo");
    let moved = m
        .users
        .update(
            Trace::new_root(),
            &Actor::of(&ada),
            ada.id,
            change(UserPatch {
                time_zone: Some("Europe/Paris".into()),
                ..UserPatch::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(moved.time_zone, "Europe/Paris");
    let bad = ProfileChange::try_from(UserPatch {
        time_zone: Some("Europe/Atlantis".into()),
        ..UserPatch::default()
    })
    .unwrap_err();
    assert!(bad.message_for("time_zone").is_some());
}
