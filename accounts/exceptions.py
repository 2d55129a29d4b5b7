"""Domain errors raised by accounts services; pages show them, and config/api/errors.py maps them for the API."""

from config.errors import DomainError


class TeamError(DomainError):
    code = "team_error"


class NotAllowed(TeamError):
    code = "forbidden"
    status = 403


class LastOwner(TeamError):
    code = "last_owner"
    status = 409


class AlreadyMember(TeamError):
    code = "already_member"
    status = 409


class InvitationInvalid(TeamError):
    code = "invitation_invalid"
    status = 400
