"""Consent mode and the pseudonym key: the two settings privacy depends on."""


from typing import Literal

from dagster import ConfigurableResource


class PrivacyPolicy(ConfigurableResource):
    """`consent_mode`: `any` or `as_of_date` (see the data contract). `pseudonym_key` keys
    the customer_id hash; set it from an EnvVar so the UI never shows it."""

    consent_mode: Literal["any", "as_of_date"] = "any"
    pseudonym_key: str
    development_key: bool = False

    def key_label(self) -> str:
        if self.development_key:
            return "development key (public, not for production data)"
        return "configured key (STEDI_PSEUDONYM_KEY)"
