package alerts

// IAMActions are the permissions the watcher needs in each app's account
// (role of scheduler:<app>); FeedIAMActions those the SQS feed needs on
// its queue (default credentials).
func IAMActions() []string { return []string{"cloudwatch:DescribeAlarms"} }

// FeedIAMActions are the feed's SQS permissions.
func FeedIAMActions() []string { return []string{"sqs:DeleteMessage", "sqs:ReceiveMessage"} }
