from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One security or data event: who did what to which account, when, from where (ADR 0032).

    Append-only: ``conduit.audit.services`` inserts rows and changes them in two cases only,
    deleting those past ``AUDIT_RETENTION_DAYS`` and pseudonymising an erased person's rows; on
    PostgreSQL a trigger refuses any other UPDATE or DELETE (migration 0001).

    Users are named by id, not by a foreign key: this app sits below the users app (any app may
    record), and an erased user's rows must outlive the user row (they are pseudonymised).
    """

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
        SIGN_IN_LOCKED = "sign_in_locked", "Sign-in locked after failures"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        EMAIL_CHANGED = "email_changed", "Email changed"
        SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", "Signed out everywhere"
        PASSWORD_CHANGE_LIMITED = "password_change_limited", "Password changes rate-limited"
        OAUTH_GRANT = "oauth_grant", "Application authorized"
        OAUTH_REVOKE = "oauth_revoke", "Application access revoked"
        EXPORT_REQUESTED = "export_requested", "Data export requested"
        EXPORT_DOWNLOADED = "export_downloaded", "Data export downloaded"
        ACCOUNT_ERASED = "account_erased", "Account erased"

    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # The user who acted (None: nobody signed in, e.g. a failed sign-in or a signed link).
    actor_id = models.BigIntegerField(null=True, blank=True)
    # The account the event is about; its owner sees the row on the Security page.
    target_user_id = models.BigIntegerField(null=True, blank=True)
    # Anything else acted on, as "kind:id" ("export:12", "oauth_app:<client id>").
    target_object = models.CharField(max_length=100, blank=True)
    # A failed sign-in's attempted email, as a keyed hash: attempts on one name can be grouped
    # without keeping the address (or a password typed into the email field).
    identifier = models.CharField(max_length=32, blank=True)
    # Set on erasure in place of actor_id/target_user_id: one random value per erased person.
    pseudonym = models.CharField(max_length=32, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    ip_network = models.CharField(max_length=50, blank=True)  # "203.0.113.0/24", "2001:db8::/48"
    user_agent = models.CharField(max_length=200, blank=True)
    detail = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["target_user_id", "-id"], name="audit_target_newest_idx"),
            models.Index(fields=["actor_id"], name="audit_actor_idx"),
            models.Index(fields=["created_at"], name="audit_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.target_user_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"
