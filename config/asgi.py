from django.core.asgi import get_asgi_application

from config.env import settings_module_choose

settings_module_choose(default_env="production")

application = get_asgi_application()
