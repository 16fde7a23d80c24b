from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Rewards and payouts")

    def ready(self):
        # The campaign file carries each campaign's rewards (campaigns' documented extension point).
        from rewards import campaign_section

        campaign_section.register()
