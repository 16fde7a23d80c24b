"""The REST API under /api/ (the schema itself is at /api/schema/, see config/urls.py)."""

from django.urls import path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from branches import apis as branch_apis
from campaigns import apis as campaign_apis
from scoring import apis as scoring_apis

app_name = "api"

urlpatterns = [
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="redoc"),
    path("figures/", branch_apis.FigureBatchView.as_view(), name="figures"),
    path("figures/history/", branch_apis.FigureHistoryView.as_view(), name="figure-history"),
    path("campaigns/", campaign_apis.CampaignList.as_view(), name="campaigns"),
    path("campaigns/<str:code>/", campaign_apis.CampaignDetail.as_view(), name="campaign"),
    path("campaigns/<str:code>/participants/", campaign_apis.ParticipantList.as_view(), name="participants"),
    path("campaigns/<str:code>/leaderboard/", scoring_apis.LeaderboardView.as_view(), name="leaderboard"),
    path(
        "campaigns/<str:code>/participants/<int:participant_id>/scores/",
        scoring_apis.ParticipantScoresView.as_view(),
        name="participant-scores",
    ),
]
