/* newslens keyness-explorer view (registered as data-view="keyness-explorer"). */
