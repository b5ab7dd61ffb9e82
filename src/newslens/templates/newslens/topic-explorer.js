/* newslens topic-explorer view (registered as data-view="topic-explorer"). */
