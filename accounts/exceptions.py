"""Domain errors raised by accounts services; pages and the API map them to responses in one place each."""


class TeamError(Exception):
    code = "team_error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


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
