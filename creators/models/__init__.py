from creators.models.coach import CoachMessage, Decision, Project, TaskCompletion
from creators.models.content import ContentDocument, ContentDocumentVersion
from creators.models.playbook import PlaybookFile
from creators.models.profile import CreatorProfile

__all__ = ["CoachMessage", "ContentDocument", "ContentDocumentVersion", "CreatorProfile", "Decision", "PlaybookFile",
           "Project", "TaskCompletion"]
