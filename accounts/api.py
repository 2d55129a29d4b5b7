"""API endpoints of accounts: the tenant's team."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import Action
from accounts.selectors import member_list
from config.api.pagination import ApiCursorPagination
from config.api.schema import error_responses, scopes_note


class TeamMemberListApi(APIView):
    pagination_class = ApiCursorPagination
    required_scopes = {"GET": "read"}
    required_actions = {"GET": Action.USE_PRODUCT}

    @extend_schema_serializer(component_name="TeamMember")
    class OutputSerializer(serializers.ModelSerializer):
        created_at = serializers.DateTimeField(source="date_joined")

        class Meta:
            model = User
            fields = ["id", "email", "full_name", "role", "created_at", "last_login"]

    @extend_schema(operation_id="team_members_list", summary="List team members", description=scopes_note("read"),
                   responses={200: OutputSerializer(many=True), **error_responses(400, 401, 403)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(member_list(), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
