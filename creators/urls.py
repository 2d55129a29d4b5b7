"""The coach's pages, under /coach/ on a tenant's host (config.urls_tenant includes them)."""

from django.urls import path

from creators import views

urlpatterns = [
    path("", views.coach_page, name="section_coach"),
    path("profile/", views.profile_page, name="coach_profile"),
    path("projects/", views.project_start_submit, name="coach_project_start"),
    path("projects/<int:project_id>/", views.project_change_submit, name="coach_project_change"),
    path("projects/<int:project_id>/tasks/<slug:task_id>/toggle/", views.task_toggle_submit,
         name="coach_task_toggle"),
    path("projects/<int:project_id>/decisions/", views.decision_submit, name="coach_decision"),
    path("projects/<int:project_id>/board/", views.board_fragment, name="coach_board"),
    path("projects/<int:project_id>/messages/", views.chat_message_submit, name="coach_chat_send"),
    path("projects/<int:project_id>/messages/<int:message_id>/actions/", views.message_actions_fragment,
         name="coach_message_actions"),
    path("projects/<int:project_id>/messages/<int:message_id>/actions/<int:index>/<slug:verb>/",
         views.message_action_submit, name="coach_message_action"),
]
