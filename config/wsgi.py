from django.core.wsgi import get_wsgi_application

from config.env import settings_module_choose

settings_module_choose(default_env="production")

application = get_wsgi_application()
