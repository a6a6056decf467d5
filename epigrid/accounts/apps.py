from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "epigrid.accounts"
    label = "accounts"

    def ready(self):
        # A token, user or grant saved or deleted: what the processes keep of tokens is read again
        # (decision 0040).
        from django.db.models.signals import post_delete, post_save
        from rest_framework.authtoken.models import Token

        from epigrid.accounts.models import Grant, User
        from epigrid.accounts.throttle import move_auth_epoch

        for model in (Token, User, Grant):
            post_save.connect(move_auth_epoch, sender=model, dispatch_uid=f"known-tokens-{model.__name__}")
            post_delete.connect(move_auth_epoch, sender=model, dispatch_uid=f"known-tokens-del-{model.__name__}")
