def post_install_hook(config_names, variables, **kwargs):
    pass
