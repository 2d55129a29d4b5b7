"""The coach's API, under /api/v1/coach/ (config.urls_api includes it)."""

from django.urls import path

from creators import api
from creators.chat import actions_api
from creators.chat import api as chat_api

urlpatterns = [
    path("profile", api.CoachProfileApi.as_view(), name="api_coach_profile"),
    path("playbooks", api.CoachPlaybookListApi.as_view(), name="api_coach_playbooks"),
    path("projects", api.CoachProjectCreateApi.as_view(), name="api_coach_projects"),
    # Before the project by id: "active" is not an id.
    path("projects/active", api.CoachProjectActiveApi.as_view(), name="api_coach_project_active"),
    path("projects/<int:project_id>", api.CoachProjectDetailApi.as_view(), name="api_coach_project"),
    path("projects/<int:project_id>/tasks/<slug:task_id>/toggle", api.CoachTaskToggleApi.as_view(),
         name="api_coach_task_toggle"),
    path("projects/<int:project_id>/decisions", api.CoachDecisionCreateApi.as_view(),
         name="api_coach_decisions"),
    path("projects/<int:project_id>/messages/<int:message_id>/actions/<int:index>/confirm",
         actions_api.CoachActionConfirmApi.as_view(), name="api_coach_action_confirm"),
    path("projects/<int:project_id>/messages/<int:message_id>/actions/<int:index>/dismiss",
         actions_api.CoachActionDismissApi.as_view(), name="api_coach_action_dismiss"),
    path("projects/<int:project_id>/messages/<int:message_id>/actions/<int:index>/undo",
         actions_api.CoachActionUndoApi.as_view(), name="api_coach_action_undo"),
    path("projects/<int:project_id>/messages", chat_api.CoachMessageListCreateApi.as_view(),
         name="api_coach_messages"),
]
